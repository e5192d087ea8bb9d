"""The intermediate form every format module produces.

A :class:`Document` is the file's content in reading order: a flat list of :class:`Row`s. A line
of text is a row with one cell and ``table`` set to ``None``; a table row is a row whose cells
carry their grid column and spans. The label-driven readers in :mod:`nianbao.reading` only ever
see this form, so no format module carries its own copy of the label logic.

Spans: a cell appears once, in the row where it starts, with its ``col``/``colspan``/``rowspan``.
Cells that start in an earlier row and reach down into this one (a ``rowspan`` group label such as
``三、本年度办理结果``) are listed in ``Row.inherited``, so a reader can use them as context without
mistaking them for values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nianbao.parsing.limits import MAX_TABLE_AREA, too_big


@dataclass(slots=True)
class Cell:
    """One cell of a table row (or the whole text of a text line)."""

    text: str
    col: int = 0
    colspan: int = 1
    rowspan: int = 1


@dataclass(slots=True)
class Row:
    """A row of a table, or a line of text (``table is None``)."""

    cells: list[Cell]
    line: int | None = None
    """1-based line number in the source text, where the format has lines."""
    page: int | None = None
    """1-based page number, where the format has pages (PDF)."""
    table: int | None = None
    """Index of the table this row belongs to, in document order; ``None`` for text."""
    aligned: bool = False
    """True when ``Cell.col`` is a trustworthy grid position (HTML, DOCX, XLSX, PDF tables)."""
    inherited: list[Cell] = field(default_factory=list)
    """Row-spanning cells from rows above that cover this row (context labels only)."""

    @property
    def text(self) -> str:
        """The row's text, cells joined by a tab."""
        return "\t".join(c.text for c in self.cells)


@dataclass(slots=True)
class Document:
    """A file's content in reading order."""

    rows: list[Row]
    title_hint: str | None = None
    """A title the container declares (HTML ``<title>``/``<h1>``, DOCX core title), if any."""
    source_format: str = "text"

    def text_lines(self) -> list[str]:
        """Every row as one line of text (tables included, cells joined by tabs)."""
        return [r.text for r in self.rows]


def text_row(text: str, line: int | None = None, page: int | None = None) -> Row:
    """A row holding one line of running text."""
    return Row(cells=[Cell(text)], line=line, page=page)


def grid_rows(
    grid: list[list[Cell]],
    table: int,
    *,
    line: int | None = None,
    page: int | None = None,
    pages: list[int | None] | None = None,
) -> list[Row]:
    """Turn a table given as rows of origin cells (with col/colspan/rowspan set) into Rows.

    ``grid[i]`` lists the cells that *start* in row ``i``. Row-spanning cells are copied into the
    ``inherited`` list of every later row they cover.
    """
    inherited_total = sum(c.rowspan - 1 for cells in grid for c in cells if c.rowspan > 1)
    if inherited_total > MAX_TABLE_AREA:  # every covered row gets its own list of the spanning cells
        raise too_big(f"row-spanning cells cover {inherited_total} rows of one table")
    rows: list[Row] = []
    active: list[tuple[int, Cell]] = []  # (last row index covered, cell)
    for i, cells in enumerate(grid):
        inherited = [c for last, c in active if last >= i]
        active = [(last, c) for last, c in active if last > i]
        for c in cells:
            if c.rowspan > 1:
                active.append((i + c.rowspan - 1, c))
        rows.append(
            Row(
                cells=list(cells),
                line=line,
                page=pages[i] if pages is not None and i < len(pages) else page,
                table=table,
                aligned=True,
                inherited=inherited,
            )
        )
    return rows
