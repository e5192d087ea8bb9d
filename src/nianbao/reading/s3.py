"""Table 三 (收到和处理政府信息公开申请情况), read by its row and column labels.

Rows are recognised by distinctive phrases of their printed labels, so a reordered table, a label
wrapped over two lines, a group label printed only on a group's first row, or a row shifted left
all read the same. Columns come from the header when it names all seven, else the printed order.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nianbao.parsing.numbers import parse_number
from nianbao.reading.rows import Line
from nianbao.reading.tables import ColumnMatcher, Placement, TableRead, header_positions, place

COLUMNS = ("natural", "commercial", "research", "nonprofit", "legal", "other_org", "total")
column_of = ColumnMatcher(
    exact={"其他": "other_org", "总计": "total", "合计": "total", "自然人": "natural"},
    contains=[("自然人", "natural"), ("商业企业", "commercial"), ("科研机构", "research"),
              ("社会公益", "nonprofit"), ("法律服务", "legal")],
)

# (row key, phrases any of which identifies the row). Sub-rows come first: they beat group rows.
# Short phrases too, for labels a PDF wraps mid-word (「5.要求行政机关确认或重新出」/「具已获取信息」).
ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("denied.state_secret", ("国家秘密",)),
    ("denied.prohibited_by_law", ("法律行政法规禁止", "行政法规禁止公开", "其他法律行政", "禁止公开")),
    ("denied.security_stability", ("三安全一稳定", "三安全")),
    ("denied.third_party", ("第三方合法权益", "保护第三方")),
    ("denied.internal_affairs", ("三类内部事务", "内部事务信息")),
    ("denied.process_info", ("四类过程性", "过程性信息")),
    ("denied.enforcement_file", ("行政执法案卷", "执法案卷", "属于行政执法")),
    ("denied.admin_query", ("行政查询事项", "行政查询")),
    ("unavailable.not_held", ("不掌握相关政府信息", "本机关不掌握")),
    ("unavailable.needs_creation", ("没有现成信息", "另行制作")),
    ("unavailable.unclear", ("补正后申请内容仍不明确", "仍不明确", "补正后申请")),
    ("rejected.petition", ("信访举报投诉", "信访举报")),
    ("rejected.duplicate", ("重复申请",)),
    ("rejected.publication", ("公开出版物", "要求提供公开出版")),
    ("rejected.excessive", ("大量反复申请", "大量反复")),
    ("rejected.confirmation", ("确认或重新出具", "重新出具已获取", "要求行政机关确认")),
    ("other.no_correction", ("逾期不补正", "无正当理由逾期不补")),
    ("other.no_fee", ("收费通知", "缴纳费用")),
    ("new", ("本年新收",)),
    ("carried_over", ("上年结转",)),
    ("granted", ("予以公开",)),
    ("partial", ("部分公开",)),
    ("total", ("(七)总计", "七、总计", "(七)合计")),
    ("carried_forward", ("结转下年度", "下年度继续办理")),
    ("other", ("其他处理",)),
)
SUBROWS_2021 = ("other.no_correction", "other.no_fee", "other.other")
# 「3.其他」 (printed also as 3、其它, 3.其他处理, or just 其他 under （六）); bare 其他处理 is the group
_OTHER_OTHER = re.compile(r"\(?3\)?[.、]?其[他它](?:处理|情形|情况)?|其[他它](?:情形|情况)?")
_TOTAL_EXACT = {"总计", "合计", "(七)", "七"}
_GROUPS = (("不予公开", "denied"), ("无法提供", "unavailable"), ("不予处理", "rejected"),
           ("其他处理", "other"), ("(六)", "other"), ("(三)", "denied"), ("(四)", "unavailable"),
           ("(五)", "rejected"))


_ROW_RE = re.compile("|".join(f"(?P<r{i}>{'|'.join(map(re.escape, phrases))})" for i, (_, phrases) in enumerate(ROWS)))
_ROW_KEYS = {f"r{i}": key for i, (key, _) in enumerate(ROWS)}


@lru_cache(maxsize=4096)
def _candidates(text: str) -> tuple[str, ...]:
    found = {_ROW_KEYS[m.lastgroup] for m in _ROW_RE.finditer(text) if m.lastgroup}
    keys = [key for key, _ in ROWS if key in found]
    if "other" in keys and any(k.startswith("other.") for k in keys):
        keys.remove("other")
    return tuple(keys)


def _group(text: str) -> str | None:
    for needle, group in _GROUPS:
        if needle in text:
            return group
    return None


def _after_group(own: str) -> str:
    """What follows the group label 「（六）其他处理」 on a row that carries it."""
    i = own.find("(六)")
    if i >= 0:
        own = own[i + 3 :]
        return own[4:] if own.startswith("其他处理") else own
    return own


def _match(line: Line, pending: str, group: str | None) -> str | None:
    own = line.own
    keys = _candidates(own)
    if keys == ("other",) and _OTHER_OTHER.fullmatch(_after_group(own)):
        return "other.other"  # 「（六）其他处理 | 3.其他」: the group label printed on its 3.其他 row
    if len(keys) == 1:
        return keys[0]
    if len(keys) > 1:
        return None
    if own in _TOTAL_EXACT:
        return "total"
    if _OTHER_OTHER.fullmatch(own):
        return "other.other" if group == "other" else None
    if pending:
        keys = _candidates(pending + own)
        if len(keys) == 1:
            return keys[0]
    return None


def read_s3(lines: list[Line]) -> TableRead:
    """Read table 三 from the rows of its section (or of the whole document)."""
    out = TableRead("s3")
    positions: dict[str, tuple[int, int]] = {}
    width: list[int] = []  # cells in the header rows that gave the positions
    pending = ""
    group: str | None = None
    single_other: Line | None = None
    for line in lines:
        if not line.values and not line.labels:
            continue
        if not line.has_values:
            found = header_positions(line, column_of)
            for k, v in found.items():
                positions.setdefault(k, v)
            if found:
                width.append(len(line.row.cells))
            if len(found) >= 2:
                out.used.add(line.index)
                pending = ""
                continue
        g = _group(line.own) or _group(line.context)
        if g:
            group = g
        key = _match(line, pending, group)
        if key is None or not line.values:
            # a label alone on its line may be the first half of a wrapped label; an unknown row
            # with numbers (a subtotal the national format does not have) ends any such label
            pending = "" if line.has_values else (pending + line.own)[-200:]
            continue
        pending = ""
        if key.startswith(("denied.", "unavailable.", "rejected.", "other.")):
            group = key.split(".", 1)[0]
        if key == "other":
            group = "other"
            if single_other is None:
                single_other = line
            continue
        _put(out, key, line, positions, width)
    subrows = [c for c in [*out.cells, *out.unreadable] if c.startswith("s3.other.")]
    if subrows:
        out.layout = "2021"
    elif single_other is not None:
        # no 1./2./3. rows under （六）: the trial format's single row (also in mixed real layouts)
        _put(out, "other", single_other, positions, width)
        out.layout = "2019"
    return out


def _row_sum_holds(placed: Placement) -> bool:
    """True when the six applicant columns of a placed row add up to its 总计."""
    values = dict(zip(placed[0], (parse_number(c.text, "count").value for c in placed[1]), strict=True))
    if any(v is None for v in values.values()) or set(values) != set(COLUMNS):
        return False
    return sum(v for k, v in values.items() if k != "total") == values["total"]  # type: ignore[misc]


def _put(out: TableRead, key: str, line: Line, positions: dict[str, tuple[int, int]], width: list[int]) -> None:
    order = COLUMNS
    if len(positions) == len(COLUMNS):
        order = tuple(sorted(COLUMNS, key=lambda k: positions[k][0]))
    placed = place(line, order, positions, header_width=max(width, default=None), holds=_row_sum_holds)
    if placed is None:
        out.put_row(key, COLUMNS, None, line)
    else:
        out.put_row(key, placed[0], placed[1], line)
