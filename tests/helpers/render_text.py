"""Render a :class:`SyntheticReport` as the text that text extraction produces from a real report.

Two families, both "markdown-ish" (``#`` headings, narrative paragraphs, tables as rows):

- :func:`render_tab`: tables as tab-separated rows, the shape of the seed report
  (``sample_inputs/cangtai-2023.txt``). Styles: ``seed`` (the seed's exact row shapes, including
  its shifted rows), ``clean`` (label cells then exactly the values), ``wrapped`` (long labels
  broken over two lines as PDF-to-text does), ``reordered`` (table-三 rows within a group and the
  table-二 blocks in another order) and ``spaced`` (spaces inside labels, full-width digits,
  mixed parentheses).
- :func:`render_pipe`: tables as markdown pipe tables. Styles: ``table`` (one pipe table per
  national table mirroring the printed grid, empty cells where a merged cell continues) and
  ``blocks`` (small tables under ``###`` headings, like the 沭阳 web-page extraction).

Every rendering is deterministic and a person reading it gets back exactly ``r.cells`` (cells in
``blanks`` print as an empty string and read as 0; cells in ``raw`` print the given text).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import groupby

from tests.helpers.synthetic import S3_COLS, S4_GROUPS, S4_PARTS, SyntheticReport

TAB_STYLES = ("seed", "clean", "wrapped", "reordered", "spaced")
PIPE_STYLES = ("table", "blocks")

SECTION_HEADINGS = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)
S3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
S3_NOTE_SEED = "(本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和)"
S3_OUTCOMES_LABEL = "三、本年度办理结果"
S3_COL_LABELS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
S4_GROUP_LABELS = {
    "review": "行政复议",
    "suit_direct": "未经复议直接起诉",
    "suit_after_review": "复议后起诉",
}
S4_BLOCK_HEADINGS = {
    "review": "行政复议",
    "suit_direct": "行政诉讼（未经复议直接起诉）",
    "suit_after_review": "行政诉讼（复议后起诉）",
}
S4_PART_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
S4_PART_LABELS_SEED = ("结果 维持", "结果 纠正", "其他 结果", "尚未 审结", "总计")

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_WRAP_AT = 14
"""Labels longer than this many characters are wrapped in the ``wrapped`` style."""


# --------------------------------------------------------------------------------------------
# The layout of the three tables, derived from cells.json
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellEntry:
    """One entry of ``cells.json`` for one template."""

    id: str
    row_label: str
    col_label: str
    group: str | None
    kind: str


@cache
def spec_entries(template: str) -> tuple[CellEntry, ...]:
    """The cells of one template in file order, read straight from ``cells.json``.

    Read per entry rather than through ``nianbao.model.cells.catalog()``: ``cells.json`` lists
    ``s2.licensing.decisions``, ``s2.punishment.decisions`` and ``s2.coercion.decisions`` once per
    template (different column labels), and a dict keyed by id keeps only one of each.
    """
    raw = json.loads(resources.files("nianbao.spec").joinpath("cells.json").read_text(encoding="utf-8"))
    return tuple(
        CellEntry(c["id"], c["row_label"], c["col_label"], c.get("group"), c["kind"])
        for c in raw["cells"]
        if template in c["templates"]
    )


@cache
def _by_id(template: str) -> dict[str, CellEntry]:
    return {c.id: c for c in spec_entries(template)}


def cell_ids(template: str) -> list[str]:
    """Every cell id of a template, in ``cells.json`` order."""
    return [c.id for c in spec_entries(template)]


def cell_kind(template: str, cell_id: str) -> str:
    """``count``, ``signed_count`` or ``amount`` (KeyError for a cell not in the template)."""
    return _by_id(template)[cell_id].kind


def outcome_row_keys(template: str) -> list[str]:
    """Row keys of the outcome rows （一）…（六） of table 三, in printed order."""
    return [
        c.id[3:-8]
        for c in spec_entries(template)
        if c.id.startswith("s3.") and c.id.endswith(".natural")
        and c.id[3:-8] not in ("new", "carried_over", "total", "carried_forward")
    ]


@dataclass(frozen=True)
class S2Block:
    """One block of table 二: ``第二十条第（X）项``, its column labels and its rows."""

    group: str
    cols: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    """(row label, cell ids in column order)."""


@dataclass(frozen=True)
class S3Row:
    """One body row of table 三."""

    key: str
    """The row part of the cell ids (``denied.state_secret``)."""
    level: str
    """``top`` (一、二、四、 rows), ``outcome`` (（一）（二）（七） and the trial （六）) or ``item``."""
    label: str
    group: str | None
    """For an ``item``: the group label (``（三）不予公开``)."""

    def ids(self) -> tuple[str, ...]:
        """The seven cell ids of the row, in column order."""
        return tuple(f"s3.{self.key}.{c}" for c in (*S3_COLS, "total"))


def s2_blocks(template: str) -> list[S2Block]:
    """The blocks of table 二 of a template, in printed order (from ``cells.json``)."""
    cells = [c for c in spec_entries(template) if c.id.startswith("s2.")]
    blocks = []
    for group, in_group in groupby(cells, key=lambda c: c.group):
        in_group = list(in_group)
        cols: list[str] = []
        rows: dict[str, list[str]] = {}
        for c in in_group:
            if c.col_label not in cols:
                cols.append(c.col_label)
            rows.setdefault(c.row_label, []).append(c.id)
        blocks.append(S2Block(str(group), tuple(cols), tuple((k, tuple(v)) for k, v in rows.items())))
    return blocks


def s3_rows(template: str) -> list[S3Row]:
    """The body rows of table 三 of a template, in printed order."""
    keys = ["new", "carried_over", *outcome_row_keys(template), "total", "carried_forward"]
    rows = []
    for key in keys:
        c = _by_id(template)[f"s3.{key}.natural"]
        if c.group is None:
            level = "top"
        elif c.group == S3_OUTCOMES_LABEL:
            level = "outcome"
        else:
            level = "item"
        rows.append(S3Row(key, level, c.row_label, c.group if level == "item" else None))
    return rows


def s4_ids() -> list[str]:
    """The 15 cell ids of table 四 in printed order."""
    return [f"s4.{g}.{p}" for g in S4_GROUPS for p in (*S4_PARTS, "total")]


# --------------------------------------------------------------------------------------------
# Cell text
# --------------------------------------------------------------------------------------------


def format_value(kind: str, value: int | float) -> str:
    """The printed text of a value of a kind: counts as integers, 本年增/减 signed, amounts ≤4 decimals."""
    if kind == "amount":
        v = float(value)
        if round(v, 4) != v:
            return repr(v)
        text = f"{v:.4f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    n = int(value)
    if kind == "signed_count":
        return f"+{n}" if n > 0 else str(n)
    return str(n)


def expected_cells(r: SyntheticReport, blanks: Collection[str] = frozenset()) -> dict[str, int | float]:
    """What a reader must get back from a rendering with ``blanks``: blank cells read as 0."""
    out = dict(r.cells)
    for cid in blanks:
        out[cid] = 0.0 if cell_kind(r.template, cid) == "amount" else 0
    return out


class _Cells:
    """Cell texts of one rendering (blanks, raw overrides, the spaced style's full-width digits).

    A cell of the template that ``r.cells`` lacks prints blank, like a cell in ``blanks``.
    """

    def __init__(
        self,
        r: SyntheticReport,
        blanks: Collection[str],
        raw: Mapping[str, str],
        fullwidth_every: int = 0,
    ) -> None:
        known = set(cell_ids(r.template))
        unknown = (set(blanks) | set(raw)) - known
        if unknown:
            raise ValueError(f"not cells of template {r.template}: {sorted(unknown)}")
        self.r = r
        self.blanks = frozenset(blanks)
        self.raw = dict(raw)
        self.fullwidth_every = fullwidth_every
        self._n = 0

    def __call__(self, cell_id: str) -> str:
        if cell_id in self.raw:
            return self.raw[cell_id]
        if cell_id in self.blanks or cell_id not in self.r.cells:
            return ""
        kind = cell_kind(self.r.template, cell_id)
        text = format_value(kind, self.r.cells[cell_id])
        if self.fullwidth_every and kind == "count":
            self._n += 1
            if self._n % self.fullwidth_every == 1:
                text = text.translate(_FULLWIDTH)
        return text

    def row(self, ids: Collection[str]) -> list[str]:
        """The texts of several cells."""
        return [self(c) for c in ids]


# --------------------------------------------------------------------------------------------
# Label variants
# --------------------------------------------------------------------------------------------


def _half_paren(label: str) -> str:
    """``（一）予以公开`` → ``(一) 予以公开`` (the seed and 沭阳 spelling of group labels)."""
    if label.startswith("（") and "）" in label[:5]:
        end = label.index("）")
        return f"({label[1:end]}) {label[end + 1:]}"
    return label


def _spaced(label: str, i: int) -> str:
    """A label as a justified PDF cell prints it: a space inside, parentheses half-/full-width."""
    if not label:
        return label
    if i % 2 == 1:
        label = _half_paren(label)
    elif label.startswith("(") and ")" in label[:5]:
        end = label.index(")")
        label = f"（{label[1:end]}）{label[end + 1:].lstrip()}"
    prefix, rest = "", label
    for marker in ("）", ") ", ")", "、", "."):
        pos = label.find(marker, 0, 6)
        if pos != -1:
            prefix, rest = label[: pos + len(marker)], label[pos + len(marker):]
            break
    if len(rest) == 4:
        rest = f"{rest[:2]} {rest[2:]}"
    elif prefix.endswith(".") or (prefix and i % 3 == 0):
        prefix = prefix.rstrip() + " "
    return prefix + rest


def _split_label(label: str) -> tuple[str, str]:
    """Where a PDF line break falls in a long label: after the punctuation nearest the middle."""
    mid = len(label) // 2
    best = None
    for i, ch in enumerate(label[:-1]):
        if ch in "，、," and 3 <= i + 1 <= len(label) - 3 and (best is None or abs(i + 1 - mid) < abs(best - mid)):
            best = i + 1
    cut = best if best is not None else mid
    return label[:cut], label[cut:]


def _wrap_line(cells: list[str], n_labels: int, limit: int = _WRAP_AT) -> list[str]:
    """Break a row over two lines when one of its first ``n_labels`` cells is a long label.

    The first line holds the leading label cells with only the start of the long label; the next
    line holds the rest of the label followed by the values (empty label cells are dropped).
    """
    for i in range(n_labels):
        if len(cells[i]) > limit:
            head, tail = _split_label(cells[i])
            values = cells[n_labels:]
            return ["\t".join([*cells[:i], head]), "\t".join([tail, *values])]
    return ["\t".join(cells)]


# --------------------------------------------------------------------------------------------
# Table 二
# --------------------------------------------------------------------------------------------


def _pad(cells: list[str], n: int) -> list[str]:
    return cells + [""] * (n - len(cells))


def _s2_tab(r: SyntheticReport, text: _Cells, style: str) -> list[str]:
    blocks = s2_blocks(r.template)
    if style == "reordered":
        blocks = blocks[::-1]
    lines: list[str] = []
    i = 0
    for b in blocks:
        i += 1
        if style == "seed":
            lines.append("\t".join(_pad([b.group], 4)))
            lines.append("\t".join(_pad(["信息内容", *b.cols], 4)))
            for label, ids in b.rows:
                lines.append("\t".join(_pad([label, *text.row(ids)], 4)))
            continue
        group, cols = b.group, list(b.cols)
        if style == "spaced":
            group = group.replace("（", "(").replace("）", ")") if i % 2 else group
            cols = [_spaced(c, i + k) for k, c in enumerate(cols)]
        lines.append(group)
        lines.append("\t".join(["信息内容", *cols]))
        for k, (label, ids) in enumerate(b.rows):
            label_text = _spaced(label, i + k) if style == "spaced" else label
            cells = [label_text, *text.row(ids)]
            if style == "wrapped":
                lines.extend(_wrap_line(cells, 1, limit=8))
            else:
                lines.append("\t".join(cells))
    return lines


def _s2_pipe(r: SyntheticReport, text: _Cells, style: str) -> list[str]:
    lines: list[str] = []
    if style == "table":
        rows: list[list[str]] = []
        for b in s2_blocks(r.template):
            rows.append(_pad([b.group], 4))
            rows.append(_pad(["信息内容", *b.cols], 4))
            rows.extend(_pad([label, *text.row(ids)], 4) for label, ids in b.rows)
        return _pipe_table(rows)
    for b in s2_blocks(r.template):
        lines += [f"### {b.group}", ""]
        lines += _pipe_table([["信息内容", *b.cols], *([label, *text.row(ids)] for label, ids in b.rows)])
        lines.append("")
    return lines[:-1]


# --------------------------------------------------------------------------------------------
# Table 三
# --------------------------------------------------------------------------------------------


def _s3_grid(template: str, reorder: bool = False) -> list[tuple[S3Row, list[str]]]:
    """Each body row with its three label cells as in the printed grid (merged cells left empty)."""
    rows = s3_rows(template)
    if reorder:
        out: list[S3Row] = []
        for _, grp in groupby(rows, key=lambda r: r.group if r.level == "item" else r.key):
            out.extend(list(grp)[::-1])
        rows = out
    grid = []
    first_outcome = True
    prev_group = None
    for row in rows:
        if row.level == "top":
            cells = [row.label, "", ""]
        elif row.level == "outcome":
            cells = [S3_OUTCOMES_LABEL if first_outcome else "", row.label, ""]
            first_outcome = False
        else:
            cells = ["", row.group if row.group != prev_group else "", row.label]
        prev_group = row.group
        grid.append((row, cells))
    return grid


def _s3_tab(r: SyntheticReport, text: _Cells, style: str) -> list[str]:
    if style == "seed":
        lines = [
            "\t".join([S3_NOTE_SEED, "", "申请人情况", "", "", "", "", "", "总计", ""]),
            "\t".join(["", "", "自然人", "法人或其他组织", "", "", "", "", "", ""]),
            "\t".join(["", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "", ""]),
        ]
        for row, (top, group, item) in _s3_grid(r.template):
            values = text.row(row.ids())
            if row.key == "total":
                cells = [_half_paren(group), *values, "", ""]
            elif row.level == "top":
                cells = [top, "", *values, ""]
            elif row.level == "outcome":
                cells = [top, _half_paren(group), *values, ""]
            elif row.key == "other.other":
                cells = [item, "", *values, ""]
            else:
                cells = ["", _half_paren(group), item, *values]
            lines.append("\t".join(cells))
        return lines

    col_labels = list(S3_COL_LABELS)
    if style == "spaced":
        col_labels = [_spaced(c, k) for k, c in enumerate(col_labels)]
    header = [
        [S3_NOTE, "", "", "申请人情况"],
        ["", "", "", col_labels[0], "法人或其他组织", "", "", "", "", col_labels[6]],
        ["", "", "", "", *col_labels[1:6]],
    ]
    lines: list[str] = []
    for h in header:
        lines.extend(_wrap_line(h, 1) if style == "wrapped" else ["\t".join(h)])
    for i, (row, labels) in enumerate(_s3_grid(r.template, reorder=style == "reordered")):
        if style == "spaced":
            labels = [_spaced(c, i) for c in labels]
        cells = [*labels, *text.row(row.ids())]
        lines.extend(_wrap_line(cells, 3) if style == "wrapped" else ["\t".join(cells)])
    return lines


def _s3_pipe(r: SyntheticReport, text: _Cells, style: str) -> list[str]:
    if style == "table":
        rows = [
            [S3_NOTE, "", "", "申请人情况", "", "", "", "", "", ""],
            ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
            ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
        ]
        rows += [[*labels, *text.row(row.ids())] for row, labels in _s3_grid(r.template)]
        return _pipe_table(rows)

    # "blocks": the shape of the 沭阳 extraction
    head = ["类别", "数据1", "数据2", "数据3", "数据4", "数据5", "数据6", "总计"]
    lines = [S3_NOTE.replace("（", "(").replace("）", ")"), ""]
    lines += ["### 申请人情况 (自然人)", "", *_pipe_table([["(数据项目)", "数量"], ["-", "-"]]), ""]
    lines += ["### 申请人情况 (法人或其他组织)", ""]
    lines += [*_pipe_table([["商业企业", "科研机构", "社会公益", "法律服务机构", "其他"], ["-"] * 5]), ""]
    lines += ["### 申请人情况 (总计)", "", *_pipe_table([["(数据项目)", "数量"], ["-", "-"]]), ""]
    rows = s3_rows(r.template)
    k = 0
    while k < len(rows):
        row = rows[k]
        if row.level == "item":
            members = [x for x in rows[k:] if x.group == row.group]
            lines += [f"### {_half_paren(str(row.group))}", ""]
            body = [[x.label.replace(".", ". ", 1), *text.row(x.ids())] for x in members]
            lines += [*_pipe_table([head, *body]), ""]
            k += len(members)
            continue
        if row.key == "granted":
            lines += [f"### {S3_OUTCOMES_LABEL}", ""]
        if row.key == "total":
            # as in 沭阳: (七)总计 and 四、结转下年度继续办理 share the last small table
            forward = rows[k + 1]
            body = [[row.label, *text.row(row.ids())], [forward.label, *text.row(forward.ids())]]
            lines += [f"### {_half_paren(row.label)}", "", *_pipe_table([head, *body]), ""]
            k += 2
            continue
        if row.level == "top":
            heading, label = row.label, row.label.split("、", 1)[1]
        else:
            heading, label = _half_paren(row.label), _half_paren(row.label).split(" ", 1)[1]
        lines += [f"### {heading}", "", *_pipe_table([head, [label, *text.row(row.ids())]]), ""]
        k += 1
    return lines[:-1]


# --------------------------------------------------------------------------------------------
# Table 四
# --------------------------------------------------------------------------------------------


def _s4_header(parts: tuple[str, ...]) -> list[list[str]]:
    return [
        ["行政复议", "", "", "", "", "行政诉讼", *[""] * 9],
        [*parts, S4_GROUP_LABELS["suit_direct"], "", "", "", "", S4_GROUP_LABELS["suit_after_review"], "", "", "", ""],
        [*[""] * 5, *parts, *parts],
    ]


def _s4_tab(r: SyntheticReport, text: _Cells, style: str) -> list[str]:
    values = text.row(s4_ids())
    if style == "seed":
        return ["\t".join(h) for h in _s4_header(S4_PART_LABELS_SEED)] + ["\t".join(values)]
    if style == "wrapped":
        tops = [p[:2] for p in S4_PART_LABELS]
        bottoms = [p[2:] for p in S4_PART_LABELS]
        lines = [
            "\t".join(["行政复议", "", "", "", "", "行政诉讼"]),
            "\t".join([*tops, "未经复议直接起诉", "", "", "", "", "复议后起诉"]),
            "\t".join(bottoms).rstrip("\t"),
            "\t".join([*[""] * 5, *tops, *tops]),
            "\t".join([*[""] * 5, *bottoms, *bottoms]).rstrip("\t"),
        ]
        return [*lines, "\t".join(values)]
    parts = S4_PART_LABELS
    if style == "spaced":
        parts = tuple(_spaced(p, k) for k, p in enumerate(parts))
    header = _s4_header(parts)
    return ["\t".join(h).rstrip("\t") for h in header] + ["\t".join(values)]


def _s4_pipe(r: SyntheticReport, text: _Cells, style: str) -> list[str]:
    if style == "table":
        return _pipe_table([*_s4_header(S4_PART_LABELS), text.row(s4_ids())])
    lines: list[str] = []
    for g in S4_GROUPS:
        ids = [f"s4.{g}.{p}" for p in (*S4_PARTS, "total")]
        lines += [f"### {S4_BLOCK_HEADINGS[g]}", ""]
        lines += _pipe_table([list(S4_PART_LABELS), text.row(ids)], sep_width=10)
        lines.append("")
    return lines[:-1]


# --------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------


def _pipe_table(rows: list[list[str]], sep_width: int = 3) -> list[str]:
    """A markdown pipe table: the first row, a separator row, then the other rows."""
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    sep = "|" + "|".join("-" * sep_width for _ in rows[0]) + "|"
    return [line(rows[0]), sep, *(line(c) for c in rows[1:])]


def preamble(r: SyntheticReport) -> str:
    """The untitled paragraph before 一: legal basis, statistics period and contact."""
    basis = "国办公开办函〔2021〕30号" if r.template == "2021" else "国办公开办函〔2019〕60号"
    period = r.period if r.period is not None else (
        f"本报告所列数据统计期限为{r.year}年1月1日至{r.year}年12月31日。"
    )
    return (
        f"依据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国政府信息公开工作"
        f"年度报告格式》（{basis}）要求，{r.agency}编制本报告。本报告由总体情况、主动公开政府信息情况、"
        f"收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、"
        f"其他需要报告的事项等六部分组成。{period}本报告电子版可在{r.agency}门户网站“政府信息公开”专栏"
        f"查阅或下载。如对本报告有疑问，请与{r.agency}办公室联系。"
    )


def _document(r: SyntheticReport, tables: dict[str, list[str]]) -> str:
    lines = [f"# {r.title}", "", preamble(r), ""]
    narrative = {1: "sec1", 5: "sec5", 6: "sec6"}
    for n, heading in enumerate(SECTION_HEADINGS, start=1):
        lines += [f"## {heading}", ""]
        if n in narrative:
            body = r.sections.get(narrative[n], "").strip() or "无。"
            lines += [body, ""]
        else:
            lines += [*tables[f"s{n}"], ""]
    return "\n".join(lines)


def _render(
    r: SyntheticReport,
    blanks: Collection[str],
    raw: Mapping[str, str] | None,
    style: str,
    fns: tuple[Callable[[SyntheticReport, _Cells, str], list[str]], ...],
) -> str:
    text = _Cells(r, blanks, raw or {}, fullwidth_every=3 if style == "spaced" else 0)
    tables = {name: fn(r, text, style) for name, fn in zip(("s2", "s3", "s4"), fns, strict=True)}
    return _document(r, tables)


def render_tab(
    r: SyntheticReport,
    *,
    blanks: Collection[str] = frozenset(),
    style: str = "seed",
    raw: Mapping[str, str] | None = None,
) -> str:
    """The report as tab-separated markdown-ish text in one of :data:`TAB_STYLES`.

    ``blanks``: cell ids printed as an empty string. ``raw``: cell id → text printed instead of
    the value (for invalid-cell tests such as ``"1O"`` or ``"--3"``).
    """
    if style not in TAB_STYLES:
        raise ValueError(f"unknown tab style {style!r}; one of {TAB_STYLES}")
    return _render(r, blanks, raw, style, (_s2_tab, _s3_tab, _s4_tab))


def render_pipe(
    r: SyntheticReport,
    *,
    blanks: Collection[str] = frozenset(),
    style: str = "table",
    raw: Mapping[str, str] | None = None,
) -> str:
    """The report with every table as markdown pipe tables, in one of :data:`PIPE_STYLES`.

    ``blanks`` and ``raw`` as in :func:`render_tab`.
    """
    if style not in PIPE_STYLES:
        raise ValueError(f"unknown pipe style {style!r}; one of {PIPE_STYLES}")
    return _render(r, blanks, raw, style, (_s2_pipe, _s3_pipe, _s4_pipe))
