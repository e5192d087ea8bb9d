"""Helpers rules share: cell values that are safe to compute with, and where a cell is."""

from __future__ import annotations

from collections.abc import Iterable

from nianbao.model.cells import catalog
from nianbao.model.report import TABLE_TITLES, Report


def values(report: Report, ids: Iterable[str]) -> list[int | float] | None:
    """The values of some cells, or None if any is missing or invalid (a rule then skips)."""
    out: list[int | float] = []
    for cid in ids:
        v = report.value(cid)
        if v is None:
            return None
        out.append(v)
    return out


def row_label(cell_id: str) -> str:
    return catalog()[cell_id].row_label


def col_label(cell_id: str) -> str:
    return catalog()[cell_id].col_label


def table_title(cell_id: str) -> str:
    return TABLE_TITLES[cell_id.split(".", 1)[0]]


def where(report: Report, cell_id: str, *, exact: bool = True) -> str:
    """A clerk's description of a cell's place: table, row, column, and (``exact``) line or page."""
    spec = catalog()[cell_id]
    cell = report.cells.get(cell_id)
    title = TABLE_TITLES[spec.table]
    group = f"{spec.group}·" if spec.group and spec.table == "s4" else ""
    text = f"{title}“{group}{spec.row_label}”行“{spec.col_label}”列"
    if cell is not None and exact:
        if cell.source.page:
            text += f"（第{cell.source.page}页）"
        elif cell.source.line:
            text += f"（第{cell.source.line}行）"
    return text
