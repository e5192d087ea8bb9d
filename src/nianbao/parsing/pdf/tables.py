"""Ruled tables: pdfplumber's lines strategy on the ruling lines, then a faithful grid per table.

Each table's column and row boundaries are the distinct x/y positions of its cells; a cell's
``col``/``colspan``/``rowspan`` are the boundaries it spans, so a merged label (``三、本年度办理结果``
over 22 rows) is one cell with its true span, exactly as in HTML. Characters belong to the cell that
contains their centre. Lines inside a cell are joined without a space between CJK characters
(wrapped labels, headers printed one character per line) and with one space otherwise —
:func:`~nianbao.parsing.encoding.join_pieces`. A "table" one column wide is a framed text box: its
text stays running text.
"""

from __future__ import annotations

import bisect
from typing import Any

from nianbao.parsing.encoding import join_pieces
from nianbao.parsing.limits import MAX_PAGE_INTERSECTIONS, Budget
from nianbao.parsing.pdf.lines import text_lines
from nianbao.parsing.pdf.model import Char, Table, TCell
from nianbao.parsing.pdf.rules import SNAP, closing_edges


def ruled_tables(edges: list[dict[str, Any]], chars: list[Char], page: int, budget: Budget | None = None) -> list[Table]:
    """The ruled tables of one page, top to bottom, each holding the characters inside its cells."""
    tables = [build_table(t, chars, page) for t in cell_boxes(edges, budget)]
    return sorted((t for t in tables if t is not None), key=lambda t: t.top)


def cell_boxes(
    edges: list[dict[str, Any]], budget: Budget | None = None
) -> list[list[tuple[float, float, float, float]]]:
    """pdfplumber's lines strategy: merged edges → intersections → cells → tables (cell bboxes).

    The finder pairs every horizontal with every vertical edge, then every crossing with every
    other: both are spent from ``budget`` first, and a page with more than
    :data:`~nianbao.parsing.limits.MAX_PAGE_INTERSECTIONS` crossings has no tables.
    """
    from pdfplumber import table as pt
    from pdfplumber import utils as pu

    edges = pu.filter_edges(edges, min_length=1)
    edges = pt.merge_edges(edges + closing_edges(edges), SNAP, SNAP, SNAP, SNAP)
    edges = pu.filter_edges(edges, min_length=3)
    horizontal = sum(1 for e in edges if e["orientation"] == "h")
    if budget is not None:
        budget.spend(horizontal * (len(edges) - horizontal))
    points = pt.edges_to_intersections(edges, SNAP, SNAP)
    if len(points) > MAX_PAGE_INTERSECTIONS:
        return []
    if budget is not None:
        budget.spend(len(points) ** 2)
    cells = pt.intersections_to_cells(points)
    return [[tuple(c) for c in t] for t in pt.cells_to_tables(cells)]  # type: ignore[misc]


def build_table(boxes: list[tuple[float, float, float, float]], chars: list[Char], page: int) -> Table | None:
    """A table from its cell boxes with the characters inside; ``None`` for a one-column text box."""
    xs = cluster([b[0] for b in boxes] + [b[2] for b in boxes])
    ys = cluster([b[1] for b in boxes] + [b[3] for b in boxes])
    if len(xs) < 3 or len(ys) < 2:
        return None
    cells: list[TCell] = []
    occupied: dict[tuple[int, int], TCell] = {}
    for x0, top, x1, bottom in boxes:
        r0, r1 = nearest_index(ys, top), nearest_index(ys, bottom)
        c0, c1 = nearest_index(xs, x0), nearest_index(xs, x1)
        if r1 <= r0 or c1 <= c0:
            continue
        cell = TCell(xs[c0], xs[c1], r0, r1 - r0, ys[r0], ys[r1])
        cells.append(cell)
        for r in range(r0, r1):
            for c in range(c0, c1):
                occupied.setdefault((r, c), cell)
    for ch in chars:
        cx = (ch.x0 + ch.x1) / 2
        if not (xs[0] <= cx <= xs[-1] and ys[0] <= ch.cy <= ys[-1]):
            continue
        cell = occupied.get((bisect.bisect_right(ys, ch.cy) - 1, bisect.bisect_right(xs, cx) - 1))
        if cell is not None:
            cell.chars.append(ch)
    for cell in cells:
        _set_text(cell)
    n = len(ys) - 1
    return Table(cells, n, [page] * n, xs[0], xs[-1], ys[0], ys[-1])


def _set_text(cell: TCell) -> None:
    """The cell's text from its characters, and where that text starts and ends (mending cut cells needs it)."""
    lines = text_lines(cell.chars)
    cell.text = join_pieces([ln.text for ln in lines])
    if lines:
        cell.text_top, cell.text_bottom = lines[0].top, lines[-1].bottom


def cluster(values: list[float], tolerance: float = 1.0) -> list[float]:
    """Distinct positions: sorted values, each dropped when within ``tolerance`` of the last one kept."""
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= tolerance:
            continue
        out.append(v)
    return out


def nearest_index(bounds: list[float], v: float) -> int:
    """Index of the boundary nearest to ``v``."""
    i = bisect.bisect_left(bounds, v)
    if i == len(bounds) or (i > 0 and v - bounds[i - 1] < bounds[i] - v):
        i -= 1
    return i
