"""Pages → document rows: one text row per line and grid rows per table, top to bottom.

Text lines and tables are merged in reading order (page, then position; a table before a line at
the same height); tables continued over a page break are stitched into one
(:mod:`~nianbao.parsing.pdf.stitch`), and each table's grid takes its columns from all its parts'
boundaries.
"""

from __future__ import annotations

from nianbao.parsing.document import Cell, Row, grid_rows, text_row
from nianbao.parsing.pdf.model import Line, Page, Table
from nianbao.parsing.pdf.stitch import Logical, continues, stitch
from nianbao.parsing.pdf.tables import cluster, nearest_index


def emit(pages: list[Page]) -> list[Row]:
    """Rows in reading order; tables continued over a page break become one table."""
    items: list[tuple[int, float, Line | Table]] = []
    for page in pages:
        for ln in page.lines:
            items.append((page.number, ln.top, ln))
        for t in page.tables:
            items.append((page.number, t.top, t))
    items.sort(key=lambda it: (it[0], it[1], isinstance(it[2], Line)))
    heights = {page.number: page.height for page in pages}
    out: list[Row | Logical] = []
    tables = 0
    for number, _, item in items:
        if isinstance(item, Line):
            out.append(text_row(item.text, page=number))
            continue
        last = out[-1] if out else None
        if isinstance(last, Logical) and continues(last, item, number, heights):
            stitch(last, item)
            continue
        logical = Logical(tables, [])
        logical.append(item)
        out.append(logical)
        tables += 1
    rows: list[Row] = []
    for entry in out:
        rows.extend(_logical_rows(entry) if isinstance(entry, Logical) else [entry])
    return rows


def _logical_rows(t: Logical) -> list[Row]:
    """Grid rows of a stitched table: columns from all parts' boundaries; empty rows squeezed out."""
    xs = cluster([c.x0 for c in t.cells] + [c.x1 for c in t.cells], tolerance=2.5)
    starts = {c.row for c in t.cells}
    keep = [r for r in range(t.nrows) if r in starts]
    new_index = {r: i for i, r in enumerate(keep)}
    grid: list[list[Cell]] = [[] for _ in keep]
    for c in sorted(t.cells, key=lambda c: (c.row, c.x0)):
        last = c.row + c.rowspan - 1
        rowspan = sum(1 for r in keep if c.row <= r <= last)
        col0, col1 = nearest_index(xs, c.x0), nearest_index(xs, c.x1)
        grid[new_index[c.row]].append(Cell(c.text, col=col0, colspan=max(1, col1 - col0), rowspan=rowspan))
    return grid_rows(grid, t.index, pages=[t.row_pages[r] for r in keep])
