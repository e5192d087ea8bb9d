"""Table 四 (行政复议、行政诉讼), read by its group and column labels.

The printed form is one row of 15 numbers under a three-row header; web extractions also split it
into three small tables under headings naming the group. A row of 15 values is all three groups,
10 is the two litigation groups, 5 is the group its label or heading names.
"""

from __future__ import annotations

from nianbao.parsing.document import Cell
from nianbao.reading.normalize import norm
from nianbao.reading.rows import Line
from nianbao.reading.tables import ColumnMatcher, TableRead, trim

GROUPS = ("review", "suit_direct", "suit_after_review")
FIELDS = ("upheld", "corrected", "other", "pending", "total")
field_of = ColumnMatcher(
    exact={"维持": "upheld", "纠正": "corrected", "其他": "other", "总计": "total", "合计": "total"},
    contains=[("维持", "upheld"), ("纠正", "corrected"), ("其他结果", "other"), ("尚未审结", "pending"),
              ("未审结", "pending"), ("审结", "pending")],
)


def _group(text: str) -> str | None:
    if "复议后起诉" in text:
        return "suit_after_review"
    if "直接起诉" in text or "未经复议" in text:
        return "suit_direct"
    if "行政诉讼" in text:
        return "suit"
    if "行政复议" in text:
        return "review"
    return None


def _field_order(line: Line) -> tuple[str, ...] | None:
    """The order of the five fields in a header row that lists them (once or repeated)."""
    keys = [field_of(c.text) for c in line.row.cells if norm(c.text)]
    keys = [k for k in keys if k]
    if len(keys) >= 5 and len(set(keys[:5])) == 5:
        return tuple(keys[:5])
    return None


def read_s4(lines: list[Line]) -> TableRead:
    """Read table 四 from the rows of its section (or of the whole document)."""
    out = TableRead("s4")
    order: tuple[str, ...] = FIELDS
    context: str | None = None
    loose: list[Cell] = []  # numbers of label-less rows that hold fewer than a whole group set
    loose_lines: list[Line] = []
    for line in lines:
        if not line.has_values:
            found = _field_order(line)
            if found:
                order = found
                out.used.add(line.index)
            g = _group(line.own)
            if g:
                context = g
            continue
        g = _group(line.own) or _group(line.context) or context
        if _place(out, line, line.values, g, order):
            loose, loose_lines = [], []
            continue
        if not line.labels:
            # PDF text often breaks the 15 numbers over lines (10 1 0 0 0 / 0 0 0 0 0 / 5 0 0 0 0)
            loose.extend(v for v in line.values if v.text.strip())
            loose_lines.append(line)
            if len(loose) == 15 and _place(out, loose_lines[0], loose, None, order):
                out.used.update(x.index for x in loose_lines)
                loose, loose_lines = [], []
    return out


def _place(out: TableRead, line: Line, vals: list[Cell], group: str | None, order: tuple[str, ...]) -> bool:
    """Record a row of 15, 10 or 5 numbers under the groups it covers; False if it is none of those."""
    n = len([v for v in vals if v.text.strip()])
    for k, groups in ((15, GROUPS), (10, GROUPS[1:]), (5, None)):
        if n > k or len(vals) < k:
            continue
        placed = trim(vals, k)
        if placed is None:
            continue
        if groups is None:
            if group not in GROUPS:
                return False
            groups = (group,)
        if all(f"s4.{grp}.total" in out.cells for grp in groups):
            return True
        for i, grp in enumerate(groups):
            out.put_row(grp, order, placed[i * 5 : (i + 1) * 5], line)
        return True
    return False
