"""A row seen by the label readers: its label cells, its value cells, and where it is.

A row's values are the cells after its last label-like cell; everything before is label. This
holds in every rendering: tab rows with the group label on the first row only, rows shifted left,
HTML rows whose group label reaches down from a rowspan above.
"""

from __future__ import annotations

from dataclasses import dataclass

from nianbao.model.report import Source
from nianbao.parsing.document import Cell, Row
from nianbao.parsing.numbers import is_value_like
from nianbao.reading.normalize import display, norm


@dataclass(slots=True)
class Line:
    index: int
    row: Row
    labels: list[Cell]
    values: list[Cell]
    own: str
    """Normalised text of the row's own label cells."""
    context: str
    """Normalised text of label cells reaching down from rows above (rowspans)."""

    @property
    def label_display(self) -> str:
        seen: list[str] = []
        for c in self.labels:
            d = display(c.text)
            if d and d not in seen:
                seen.append(d)
        return " ".join(seen)

    @property
    def has_values(self) -> bool:
        """True when some value cell holds text (a number, a dash, or something invalid)."""
        return any(c.text.strip() for c in self.values)


_LONGEST_LABEL = 120


def split_row(index: int, row: Row) -> Line:
    """Split a row into label cells and trailing value cells."""
    cells = row.cells
    if row.table is None and len(cells) == 1 and len(cells[0].text) > _LONGEST_LABEL:
        return Line(index, row, cells, [], "", "")  # a paragraph of running text, no label to match
    last_label = -1
    for i in range(len(cells) - 1, -1, -1):
        if not is_value_like(cells[i].text):
            last_label = i
            break
    labels = cells[: last_label + 1]
    values = cells[last_label + 1 :]
    own = norm("".join(c.text for c in labels))
    context = norm("".join(c.text for c in row.inherited)) if row.inherited else ""
    return Line(index, row, labels, values, own, context)


def trim(values: list[Cell], k: int) -> list[Cell] | None:
    """Drop empty cells at the ends (spacers of merged cells) until ``k`` remain; None if impossible."""
    vals = list(values)
    while len(vals) > k and not vals[-1].text.strip():
        vals.pop()
    while len(vals) > k and not vals[0].text.strip():
        vals.pop(0)
    return vals if len(vals) == k else None


def source(table: str, line: Line) -> Source:
    """Where a row's cells were read (one object shared by the row's cells)."""
    return Source(table=table, row_label=line.label_display, line=line.row.line, page=line.row.page)
