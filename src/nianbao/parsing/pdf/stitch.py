"""Tables across pages: a table continued over a page break becomes one table.

When a page ends with a table and the next page starts with a table whose outer borders line up,
the second is the continuation of the first: same table index, rows appended, each row's ``page``
set. A header repeated at the top of the continuation is dropped. A row-spanning cell cut by the
page break is mended: an empty cell at the top of the continuation, in the same columns as a cell
open at the bottom of the previous page, extends that cell's ``rowspan``; a non-empty one is
appended to its text when the text visibly runs across the break (it ends at the bottom edge and
restarts at the top edge: ``（四）无`` + ``法提供``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nianbao.parsing.encoding import join_pieces
from nianbao.parsing.pdf.model import Table, TCell
from nianbao.parsing.pdf.tables import cluster, nearest_index

BORDER_TOLERANCE = 4.0
"""How far the outer borders of a table's two parts may be apart to count as one table."""


@dataclass
class Logical:
    """A table as the reader sees it: one or more page parts stitched together."""

    index: int
    parts: list[Table]
    cells: list[TCell] = field(default_factory=list)
    nrows: int = 0
    row_pages: list[int] = field(default_factory=list)

    def append(self, part: Table) -> None:
        offset = self.nrows
        for c in part.cells:
            c.row += offset
        self.cells.extend(part.cells)
        self.nrows += part.nrows
        self.row_pages.extend(part.row_pages)
        self.parts.append(part)


def continues(prev: Logical, part: Table, page: int, heights: dict[int, float]) -> bool:
    """Does ``part`` continue ``prev`` over a page break?

    Nothing may stand between them (the caller checks), the previous part must be on the page
    before and ``part`` start in the upper third of ``page``, the outer borders must line up, and
    most of ``part``'s column rules must continue rules of ``prev`` (table 四 after table 三 does
    not). The previous part need not reach the page bottom: rows that may not break across pages
    leave space there.
    """
    last = prev.parts[-1]
    if last.row_pages[-1] != page - 1 or part.top > heights[page] / 3:
        return False
    if abs(last.x0 - part.x0) > BORDER_TOLERANCE or abs(last.x1 - part.x1) > BORDER_TOLERANCE:
        return False
    bounds = cluster([c.x0 for c in prev.cells] + [c.x1 for c in prev.cells], tolerance=2.5)
    mine = cluster([c.x0 for c in part.cells] + [c.x1 for c in part.cells], tolerance=2.5)
    matched = sum(1 for x in mine if abs(bounds[nearest_index(bounds, x)] - x) <= BORDER_TOLERANCE)
    return matched * 2 >= len(mine)


def stitch(prev: Logical, part: Table) -> None:
    """Append a continuation part: drop a repeated header, mend cells cut by the page break."""
    skip = 0
    while skip < min(part.nrows - 1, prev.nrows) and _row_texts(part.cells, skip) == _row_texts(prev.cells, skip):
        skip += 1
    if skip:
        part = _drop_rows(part, skip)
    bounds = cluster([c.x0 for c in prev.cells] + [c.x1 for c in prev.cells], tolerance=2.5)
    for c in part.cells:
        c.x0, c.x1 = _snap(bounds, c.x0), _snap(bounds, c.x1)
    last_row = prev.nrows - 1
    open_cells = [c for c in prev.cells if c.row + c.rowspan - 1 == last_row]
    first = sorted((c for c in part.cells if c.row == 0), key=lambda c: c.x0)
    merged: list[TCell] = []
    for c in first:
        above = next((o for o in open_cells if _same_columns(o, c)), None)
        if above is not None and _is_cut(above, c, first):
            above.rowspan += c.rowspan
            above.text = join_pieces([above.text, c.text])
            merged.append(c)
    part.cells = [c for c in part.cells if all(c is not m for m in merged)]
    prev.append(part)


def _row_texts(cells: list[TCell], row: int) -> list[str]:
    return [c.text for c in sorted(cells, key=lambda c: c.x0) if c.row == row]


def _snap(bounds: list[float], v: float) -> float:
    """``v`` moved onto the nearest boundary of the part above when it is within the border tolerance."""
    nearest = bounds[nearest_index(bounds, v)]
    return nearest if abs(nearest - v) <= BORDER_TOLERANCE else v


def _drop_rows(part: Table, k: int) -> Table:
    cells = []
    for c in part.cells:
        if c.row + c.rowspan <= k:
            continue
        if c.row < k:
            c.rowspan -= k - c.row
            c.row = k
        c.row -= k
        cells.append(c)
    return Table(cells, part.nrows - k, part.row_pages[k:], part.x0, part.x1, part.top, part.bottom)


def _same_columns(a: TCell, b: TCell) -> bool:
    return abs(a.x0 - b.x0) <= BORDER_TOLERANCE and abs(a.x1 - b.x1) <= BORDER_TOLERANCE


def _is_cut(above: TCell, below: TCell, first_row: list[TCell]) -> bool:
    """Is ``below`` (top row of a continuation) the rest of ``above`` (open at the previous page's end)?

    Empty: yes when either part spans several rows and ``below`` lies left of the row's first text
    (label columns, not a blank value). Non-empty: yes when either part spans several rows and the
    text runs across the break: it ends less than 0.9 line heights above the bottom edge and
    restarts less than 0.9 line heights below the top edge (淮安 2024: ``（四）无`` / ``法提供``,
    5.8 and 5.9 pt at a 7.8 pt line; a label centred in its own cell sits further from the edges).
    """
    if above.rowspan == 1 and below.rowspan == 1:
        return False
    if not below.text:
        first_text = next((c for c in first_row if c.text), None)
        return first_text is None or below.x1 <= first_text.x0 + 0.5
    if not above.text or above.text_bottom is None or below.text_top is None:
        return False
    line = below.chars[0].bottom - below.chars[0].top if below.chars else 8.0
    return above.bottom - above.text_bottom <= 0.9 * line and below.text_top - below.top <= 0.9 * line
