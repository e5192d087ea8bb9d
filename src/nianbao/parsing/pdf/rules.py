"""Ruling lines: horizontal and vertical segments of the visible vector paths, as pdfplumber edges.

Only paths painted in a colour that shows on white paper count: Word paints every cell background
as white rectangles cut along the hidden column grid, whose edges would split merged cells. Where
several vertical rules end at the same height with no rule across them (Word draws no bottom border
where a table breaks over a page), a closing edge is added.
"""

from __future__ import annotations

import ctypes
from typing import Any

from nianbao.parsing.limits import Budget
from nianbao.parsing.pdf.objects import OBJ_PATH

SNAP = 3.0
"""pdfplumber's default snap/join/intersection tolerance (points)."""
_SEG_LINETO, _SEG_BEZIER, _SEG_MOVETO = 0, 1, 2
_MAX_SEGMENTS = 400
"""Paths with more segments than this are not read for ruling lines."""


def ruling_edges(
    objects: list[tuple[Any, tuple[float, ...], int]], top: float, budget: Budget | None = None
) -> list[dict[str, Any]]:
    """Horizontal and vertical segments of visible paths, as pdfplumber edge dicts (the segments read
    are spent from ``budget``)."""
    import pypdfium2.raw as R

    out: list[dict[str, Any]] = []
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    x, y = ctypes.c_float(), ctypes.c_float()
    for raw, (a, b, c, d, e, f), kind in objects:
        if kind != OBJ_PATH or not _visible(raw, fill, stroke):
            continue
        n = R.FPDFPath_CountSegments(raw)
        if n <= 0 or n > _MAX_SEGMENTS:
            continue
        if budget is not None:
            budget.spend(n)
        start = prev = None
        for i in range(n):
            seg = R.FPDFPath_GetPathSegment(raw, i)
            R.FPDFPathSegment_GetPoint(seg, x, y)
            pt = (a * x.value + c * y.value + e, top - (b * x.value + d * y.value + f))
            seg_kind = R.FPDFPathSegment_GetType(seg)
            if seg_kind == _SEG_MOVETO:
                start = prev = pt
            else:
                if seg_kind == _SEG_LINETO and prev is not None:
                    _add_edge(out, prev, pt)
                prev = pt
            if R.FPDFPathSegment_GetClose(seg) and start is not None and prev is not None:
                _add_edge(out, prev, start)
                prev = start
    return out


def _visible(raw: Any, fill: ctypes.c_int, stroke: ctypes.c_int) -> bool:
    """Is the path drawn in a colour that shows on white paper?

    Word's PDF export paints every cell background as a white filled rectangle, cut along the
    underlying column grid even where cells are merged (洪泽 2023: ``（六）其他处理`` over two
    columns is two white rectangles). Their edges are invisible and must not split cells.
    """
    import pypdfium2.raw as R

    if not R.FPDFPath_GetDrawMode(raw, fill, stroke):
        return True
    rgba = [ctypes.c_uint() for _ in range(4)]
    if stroke.value and R.FPDFPageObj_GetStrokeColor(raw, *rgba) and _shows(rgba):
        return True
    return bool(fill.value) and bool(R.FPDFPageObj_GetFillColor(raw, *rgba)) and _shows(rgba)


def _shows(rgba: list[ctypes.c_uint]) -> bool:
    r, g, b, a = (v.value for v in rgba)
    return a > 0 and min(r, g, b) < 250


def _add_edge(out: list[dict[str, Any]], p: tuple[float, float], q: tuple[float, float]) -> None:
    (x0, y0), (x1, y1) = p, q
    if abs(y0 - y1) < 0.5 and abs(x1 - x0) >= 1:
        lo, hi = sorted((x0, x1))
        out.append({"x0": lo, "x1": hi, "top": y0, "bottom": y0, "doctop": y0, "width": hi - lo,
                    "height": 0.0, "orientation": "h", "object_type": "line"})  # fmt: skip
    elif abs(x0 - x1) < 0.5 and abs(y1 - y0) >= 1:
        lo, hi = sorted((y0, y1))
        out.append({"x0": x0, "x1": x0, "top": lo, "bottom": hi, "doctop": lo, "width": 0.0,
                    "height": hi - lo, "orientation": "v", "object_type": "line"})  # fmt: skip


def closing_edges(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Horizontal edges across vertical rules that end together: the open side of a table cut by a page.

    Word draws no bottom border where a table breaks across pages (and no top border where it
    resumes), so without this the cells of the last and first rows would never close.
    """
    verticals = [e for e in edges if e["orientation"] == "v"]
    out: list[dict[str, Any]] = []
    for key in ("top", "bottom"):
        ends = sorted(verticals, key=lambda e: e[key])
        group: list[dict[str, Any]] = []
        for e in [*ends, None]:
            if e is not None and (not group or e[key] - group[0][key] <= SNAP):
                group.append(e)
                continue
            if len(group) >= 2:
                y = sum(g[key] for g in group) / len(group)
                lo, hi = min(g["x0"] for g in group), max(g["x0"] for g in group)
                _add_edge(out, (lo, y), (hi, y))
            group = [e] if e is not None else []
    return out
