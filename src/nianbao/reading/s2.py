"""Table 二 (主动公开政府信息情况), read by its row and column labels.

The two templates share row labels but not columns, so the layout is decided first from the
column labels (and the rows only the trial form has), then each row is placed: by the columns its
block's header names, else in the printed order of its template.
"""

from __future__ import annotations

from nianbao.reading.normalize import norm
from nianbao.reading.rows import Line
from nianbao.reading.tables import ColumnMatcher, TableRead, place

ROWS = (
    ("normative_documents", ("规范性文件",)),
    ("regulations", ("规章",)),
    ("licensing", ("行政许可",)),
    ("other_services", ("对外管理服务",)),
    ("punishment", ("行政处罚",)),
    ("coercion", ("行政强制",)),
    ("fees", ("行政事业性收费", "事业性收费")),
    ("procurement", ("政府集中采购", "集中采购")),
)
COLUMNS = {
    "2021": {
        "regulations": ("issued", "repealed", "in_force"),
        "normative_documents": ("issued", "repealed", "in_force"),
        "licensing": ("decisions",),
        "punishment": ("decisions",),
        "coercion": ("decisions",),
        "fees": ("amount",),
    },
    "2019": {
        "regulations": ("made", "published", "total_published"),
        "normative_documents": ("made", "published", "total_published"),
        "licensing": ("prev_items", "change", "decisions"),
        "other_services": ("prev_items", "change", "decisions"),
        "punishment": ("prev_items", "change", "decisions"),
        "coercion": ("prev_items", "change", "decisions"),
        "fees": ("prev_items", "change"),
        "procurement": ("items", "amount"),
    },
}
column_of = ColumnMatcher(
    exact={},
    contains=[("制发", "issued"), ("废止", "repealed"), ("现行有效", "in_force"), ("收费金额", "amount"),
              ("新制作", "made"), ("新公开", "published"), ("对外公开总", "total_published"),
              ("上一年项目", "prev_items"), ("增/减", "change"), ("增减", "change"),
              ("采购项目数", "items"), ("采购总金额", "amount"), ("处理决定", "decisions")],
)
_REVISED = ("制发", "废止", "现行有效", "本年处理决定", "本年收费金额")
_TRIAL = ("新制作", "新公开", "对外公开总数", "上一年项目", "增/减", "增减", "采购项目", "采购总金额")


def _row_key(own: str) -> str | None:
    if not own or len(own) > 20:
        return None
    keys = [k for k, phrases in ROWS if any(p in own for p in phrases)]
    return keys[0] if len(keys) == 1 else None


def _votes(text: str) -> tuple[int, int]:
    revised = sum(1 for w in _REVISED if w in text)
    trial = sum(1 for w in _TRIAL if w in text)
    if "处理决定数量" in text and "本年处理决定" not in text:
        trial += 1
    return revised, trial


def read_s2(lines: list[Line], fallback_layout: str | None) -> TableRead:
    """Read table 二. ``fallback_layout`` decides when the table itself does not show its template."""
    out = TableRead("s2")
    revised = trial = 0
    header: list[str] = []
    rows: list[tuple[str, Line, list[str]]] = []
    pending = ""  # a row label wrapped over two lines: its first half, printed alone
    for line in lines:
        key = _row_key(line.own)
        if key is None and pending and line.has_values:
            key = _row_key(pending + line.own)
        pending = line.own if not line.values and len(line.own) <= 12 else ""
        if key is None or not line.values:
            if len(line.row.cells) >= 2 or len(line.own) <= 40:
                r, t = _votes(line.own)
                revised, trial = revised + r, trial + t
                found = [k for k in (column_of(c.text) for c in line.row.cells) if k]
                if len(found) >= 1 and (r or t):
                    header = found
                    out.used.add(line.index)
            continue
        if any(key == k for k, _, _ in rows):
            continue
        rows.append((key, line, header))
        if key in ("other_services", "procurement"):
            trial += 2
    layout = _decide(revised, trial, rows) or fallback_layout
    if not rows:
        return out
    out.layout = layout
    for key, line, hdr in rows:
        columns = COLUMNS.get(layout or "2021", {}).get(key)
        if columns is None:
            continue
        order = tuple(hdr) if sorted(hdr) == sorted(columns) else columns
        placed = place(line, order, {}, allow_subset=False)
        if placed is None:
            out.put_row(key, columns, None, line)
        else:
            out.put_row(key, placed[0], placed[1], line)
    return out


def _decide(revised: int, trial: int, rows: list[tuple[str, Line, list[str]]]) -> str | None:
    if revised != trial:
        return "2021" if revised > trial else "2019"
    widths = {len([v for v in line.values if norm(v.text)]) for key, line, _ in rows
              if key in ("licensing", "punishment", "coercion")}
    if widths == {3}:
        return "2019"
    if widths == {1}:
        return "2021"
    return None
