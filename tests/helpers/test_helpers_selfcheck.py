"""Tests of the test helpers: the oracle, the strategies, the text renderers and the faults.

The read-back below is a tiny ad-hoc reader written for these tests only (label- and
position-driven, NFKC-normalised); it is not the product's parser and must stay independent of it.
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.faults import (
    C7,
    OUTCOME_ROWS,
    S4_GROUPS,
    break_balance,
    break_cell,
    break_outcome_sum,
    break_row_total,
    break_s4_total,
    expected_arithmetic_findings,
    s3_row_keys,
)
from tests.helpers.render_text import (
    PIPE_STYLES,
    SECTION_HEADINGS,
    TAB_STYLES,
    cell_ids,
    cell_kind,
    expected_cells,
    format_value,
    outcome_row_keys,
    render_pipe,
    render_tab,
    s2_blocks,
    s3_rows,
    s4_ids,
    spec_entries,
)
from tests.helpers.strategies import (
    YEARS,
    blank_sets,
    consistent_reports,
    number_texts,
    realistic_sections,
    single_cell_changes,
)
from tests.helpers.synthetic import SyntheticReport, consistent_cells, make_report

SEED_FILE = Path(__file__).resolve().parents[2] / "sample_inputs" / "cangtai-2023.txt"
TEMPLATES = ("2019", "2021")
ALL_STYLES = [("tab", s) for s in TAB_STYLES] + [("pipe", s) for s in PIPE_STYLES]

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def render(kind: str, r: SyntheticReport, **kw: object) -> str:
    """Either renderer by name."""
    return render_tab(r, **kw) if kind == "tab" else render_pipe(r, **kw)  # type: ignore[arg-type]


def zero_report(template: str, year: int = 2023) -> SyntheticReport:
    """A report with every cell 0, like the seed file."""
    cells = {c: (0.0 if cell_kind(template, c) == "amount" else 0) for c in cell_ids(template)}
    return SyntheticReport("苍台镇人民政府", year, template, cells, {"sec1": "正文。", "sec5": "无。", "sec6": "无。"})


# --------------------------------------------------------------------------------------------
# An ad-hoc reader for the renderings (test only)
# --------------------------------------------------------------------------------------------

_NUM = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_SEP_ROW = re.compile(r"^\|[-|\s]+\|$")


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _is_num(s: str) -> bool:
    return bool(_NUM.match(_norm(s)))


def _num(s: str) -> int | float:
    t = _norm(s)
    return float(t) if "." in t else int(t)


def _cells_of(line: str) -> list[str]:
    if line.startswith("|"):
        return [c.strip() for c in line.strip().strip("|").split("|")]
    return line.split("\t")


def _core(label: str) -> str:
    t = _norm(label)
    t = re.sub(r"^\([一二三四五六七八九十]+\)", "", t)
    return re.sub(r"^[一二三四五六七八九十]+、", "", t)


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^## (.)、", line)
        if m:
            current = m.group(1)
            out[current] = []
        elif current:
            out[current].append(line)
    return out


def _is_break(line: str) -> bool:
    return not line.strip() or line.startswith("#") or bool(_SEP_ROW.match(line.strip()))


def _read_s2(lines: list[str], template: str) -> dict[str, int | float]:
    index = {
        (_norm(str(c.group)), _norm(c.row_label), _norm(c.col_label)): c.id
        for c in spec_entries(template)
        if c.id.startswith("s2.")
    }
    out: dict[str, int | float] = {}
    group, cols, pending = "", [], ""
    for line in lines:
        m = re.search(r"第二十条第\((.)\)项", _norm(line))
        if m:
            group, pending = f"第二十条第({m.group(1)})项", ""
            continue
        if _is_break(line):
            pending = ""
            continue
        cells = _cells_of(line)
        if _norm(cells[0]) == "信息内容":
            cols, pending = [_norm(c) for c in cells[1:] if c.strip()], ""
            continue
        if not any(_is_num(c) for c in cells):
            pending = "".join(cells)
            continue
        label = _norm(pending + cells[0])
        pending = ""
        for col, v in zip(cols, cells[1:], strict=False):
            out[index[(group, label, col)]] = _num(v)
    return out


def _read_s3(lines: list[str], template: str) -> dict[str, int | float]:
    rows = {_core(r.label): r for r in s3_rows(template)}
    out: dict[str, int | float] = {}
    pending = ""
    for line in lines:
        if _is_break(line):
            pending = ""
            continue
        cells = _cells_of(line)
        nums = [c for c in cells if _is_num(c)]
        text = "".join(c for c in cells if not _is_num(c))
        if not nums:
            pending = text
            continue
        joined, pending = _norm(pending + text), ""
        matches = [core for core in rows if joined.endswith(core)]
        assert matches, f"no row label in {line!r}"
        row = rows[max(matches, key=len)]
        assert len(nums) == 7, line
        for cid, v in zip(row.ids(), nums, strict=True):
            assert cid not in out, f"{cid} read twice"
            out[cid] = _num(v)
    return out


def _read_s4(lines: list[str]) -> dict[str, int | float]:
    nums = [c for line in lines if not _is_break(line) for c in _cells_of(line) if _is_num(c)]
    assert len(nums) == 15
    return {cid: _num(v) for cid, v in zip(s4_ids(), nums, strict=True)}


def read_back(text: str, template: str) -> dict[str, int | float]:
    """Every cell of tables 二, 三 and 四 of a rendering without blanks."""
    sec = _sections(text)
    return {**_read_s2(sec["二"], template), **_read_s3(sec["三"], template), **_read_s4(sec["四"])}


# --------------------------------------------------------------------------------------------
# The oracle and the synthetic cells
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_consistent_cells_give_no_findings(template: str) -> None:
    for seed in range(300):
        cells = consistent_cells(template, random.Random(seed), scale=(5, 20, 500)[seed % 3])
        assert expected_arithmetic_findings(cells, template) == set(), seed


@pytest.mark.parametrize("template", TEMPLATES)
def test_oracle_rows_follow_cells_json(template: str) -> None:
    assert list(OUTCOME_ROWS[template]) == outcome_row_keys(template)
    assert len(s3_row_keys(template)) == {"2019": 23, "2021": 25}[template]
    assert [r.key for r in s3_rows(template)] == list(s3_row_keys(template))
    s3_s4 = {c for c in cell_ids(template) if not c.startswith("s2.")}
    expected = {f"s3.{r}.{c}" for r in s3_row_keys(template) for c in C7} | set(s4_ids())
    assert s3_s4 == expected


def test_oracle_worked_example_from_rules_md() -> None:
    cells = dict(zero_report("2021").cells)
    cells |= {"s3.new.legal": 5, "s3.carried_over.legal": 2, "s3.total.legal": 5, "s3.carried_forward.legal": 1}
    found = expected_arithmetic_findings(cells, "2021")
    assert ("S3-BALANCE", "s3.new.legal", 7, 6) in found


def test_oracle_blank_is_zero_and_invalid_is_unchecked() -> None:
    cells = dict(zero_report("2021").cells)
    del cells["s3.granted.natural"]
    assert expected_arithmetic_findings(cells, "2021") == set()
    cells["s4.review.upheld"] = None  # type: ignore[assignment]
    cells["s4.review.total"] = 3
    assert expected_arithmetic_findings(cells, "2021") == set()
    cells["s4.review.upheld"] = 1
    assert expected_arithmetic_findings(cells, "2021") == {("S4-SUM", "s4.review.total", 1, 3)}


@SETTINGS
@given(consistent_reports())
def test_consistent_reports_are_consistent(r: SyntheticReport) -> None:
    assert r.year in YEARS[r.template]
    assert list(r.cells) == cell_ids(r.template)
    assert expected_arithmetic_findings(r.cells, r.template) == set()
    for cid, v in r.cells.items():
        kind = cell_kind(r.template, cid)
        if kind == "amount":
            assert v >= 0 and round(v, 4) == v
        elif kind == "count":
            assert isinstance(v, int) and v >= 0
    if r.template == "2021":
        for row in ("regulations", "normative_documents"):
            c = {k: r.cells[f"s2.{row}.{k}"] for k in ("issued", "repealed", "in_force")}
            assert c["in_force"] >= c["issued"] - c["repealed"]
    else:
        for row in ("licensing", "other_services", "punishment", "coercion", "fees"):
            assert r.cells[f"s2.{row}.prev_items"] + r.cells[f"s2.{row}.change"] >= 0
        assert (r.cells["s2.procurement.items"] == 0) == (r.cells["s2.procurement.amount"] == 0)


@SETTINGS
@given(consistent_reports())
def test_narrative_agrees_with_tables(r: SyntheticReport) -> None:
    sec1 = r.sections["sec1"]
    for word in ("主动公开", "依申请公开", "政府信息管理", "平台建设", "监督保障", "考核", "社会评议", "责任追究"):
        assert word in sec1
    years = {int(y) for s in r.sections.values() for y in re.findall(r"(\d{4})年", s)}
    assert years <= {r.year}
    new, cin = r.cells["s3.new.total"], r.cells["s3.carried_over.total"]
    assert ("未收到" in sec1) == (new == 0)
    for n in re.findall(r"共收到政府信息公开申请(\d+)件", sec1):
        assert int(n) == new
    for n in re.findall(r"共受理政府信息公开申请(\d+)件", sec1):
        assert int(n) == new + cin
    for n in re.findall(r"办结(\d+)件", sec1):
        assert int(n) == r.cells["s3.total.total"]
    for n in re.findall(r"行政复议(\d+)件", sec1):
        assert int(n) == r.cells["s4.review.total"]
    assert ("信息处理费" in r.sections["sec6"]) == (r.year >= 2021)
    assert realistic_sections(r.agency, r.year, r.template, r.cells, 7) == realistic_sections(
        r.agency, r.year, r.template, r.cells, 7
    )


# --------------------------------------------------------------------------------------------
# The renderers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "style"), ALL_STYLES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_document_structure(kind: str, style: str, template: str) -> None:
    r = make_report(template, seed=11)
    text = render(kind, r, style=style)
    lines = text.splitlines()
    assert lines[0] == f"# {r.title}"
    for heading in SECTION_HEADINGS:
        assert lines.count(f"## {heading}") == 1
        assert text.count(heading) == 1
    assert f"本报告所列数据统计期限为{r.year}年1月1日至{r.year}年12月31日。" in text
    assert text == render(kind, r, style=style)
    for key in ("sec1", "sec5", "sec6"):
        assert r.sections[key] in text


def test_period_override() -> None:
    r = make_report("2021", seed=1)
    r.period = "本报告所列数据统计期限为2022年1月1日至2022年12月31日。"
    text = render_tab(r)
    assert r.period in text and "2023年1月1日" not in text


def test_seed_style_reproduces_the_seed_tables() -> None:
    seed = [line for line in SEED_FILE.read_text(encoding="utf-8").splitlines() if "\t" in line]
    mine = [line for line in render_tab(zero_report("2021")).splitlines() if "\t" in line]
    assert mine == seed


@SETTINGS
@given(consistent_reports(), st.sampled_from(ALL_STYLES))
def test_every_value_reads_back(r: SyntheticReport, kind_style: tuple[str, str]) -> None:
    kind, style = kind_style
    assert read_back(render(kind, r, style=style), r.template) == r.cells


def _expected_text(r: SyntheticReport, cid: str, blanks: frozenset[str]) -> str:
    return "" if cid in blanks else format_value(cell_kind(r.template, cid), r.cells[cid])


@SETTINGS
@given(st.data())
def test_blanks_sit_at_their_place_in_clean_and_grid_layouts(data: st.DataObject) -> None:
    r = data.draw(consistent_reports())
    blanks = data.draw(blank_sets(r, max_size=6))
    for kind, style in (("tab", "clean"), ("pipe", "table")):
        sec = _sections(render(kind, r, style=style, blanks=blanks))
        rows = [_cells_of(x) for x in sec["二"] if x.strip() and not _SEP_ROW.match(x)]
        k = 0
        for b in s2_blocks(r.template):
            assert _norm(rows[k][0]) == _norm(b.group) and rows[k + 1][0] == "信息内容"
            for j, (label, ids) in enumerate(b.rows):
                cells = rows[k + 2 + j]
                assert cells[0] == label
                assert cells[1:1 + len(ids)] == [_expected_text(r, c, blanks) for c in ids]
            k += 2 + len(b.rows)
        body = [_cells_of(x) for x in sec["三"] if x.strip() and not _SEP_ROW.match(x)][3:]
        assert len(body) == len(s3_rows(r.template))
        for cells, row in zip(body, s3_rows(r.template), strict=True):
            assert row.label in cells[:3]
            assert cells[3:] == [_expected_text(r, c, blanks) for c in row.ids()]
        s4 = [_cells_of(x) for x in sec["四"] if x.strip() and not _SEP_ROW.match(x)][-1]
        assert s4 == [_expected_text(r, c, blanks) for c in s4_ids()]


def test_expected_cells_reads_blanks_as_zero() -> None:
    r = make_report("2019", seed=2)
    got = expected_cells(r, {"s3.new.legal", "s2.procurement.amount"})
    assert got["s3.new.legal"] == 0 and got["s2.procurement.amount"] == 0.0
    assert isinstance(got["s2.procurement.amount"], float)


def test_raw_text_and_bad_arguments() -> None:
    r = make_report("2021", seed=4)
    line = next(x for x in render_tab(r, style="clean", raw={"s3.new.legal": "1O"}).splitlines()
                if x.startswith("一、本年新收"))
    assert line.split("\t")[7] == "1O"
    with pytest.raises(ValueError):
        render_tab(r, blanks={"s2.procurement.items"})  # a 2019 cell
    with pytest.raises(ValueError):
        render_tab(r, style="fancy")
    with pytest.raises(ValueError):
        render_pipe(r, style="seed")


def test_trial_template_specifics() -> None:
    r = make_report("2019", seed=8)
    r.cells |= {"s2.fees.prev_items": 5, "s2.fees.change": -2, "s2.licensing.change": 3,
                "s2.procurement.items": 2, "s2.procurement.amount": 160.5964}
    lines = render_tab(r).splitlines()
    assert "第二十条第（九）项\t\t\t" in lines
    assert "政府集中采购\t2\t160.5964\t" in lines
    assert "行政事业性收费\t5\t-2\t" in lines
    assert any(x.startswith("行政许可\t") and x.split("\t")[2] == "+3" for x in lines)
    other = [x for x in lines if "其他处理" in x]
    assert len(other) == 1 and other[0].startswith("\t(六) 其他处理\t")


def test_style_features() -> None:
    r = make_report("2021", seed=9)
    wrapped = render_tab(r, style="wrapped")
    assert "\t（二）部分公开（区分处理的，\n只计这一情形，不计其他情形）\t" in wrapped
    assert "\t（六）其他处理\t1.申请人无正当理由逾期不补正、\n行政机关不再处理其政府信息公开申请\t" in wrapped
    clean_lines = render_tab(r, style="clean").splitlines()
    reordered = render_tab(r, style="reordered").splitlines()
    assert len(clean_lines) == len(reordered) and clean_lines != reordered
    assert reordered.index("第二十条第（八）项") < reordered.index("第二十条第（一）项")
    assert any(x.startswith("\t（三）不予公开\t8.属于行政查询事项\t") for x in reordered)
    spaced = render_tab(r, style="spaced")
    assert "商业 企业" in spaced and "结果 维持" in spaced
    assert re.search("[０-９]", spaced)
    assert "(" in spaced and "（" in spaced
    blocks = render_pipe(r, style="blocks")
    for heading in ("### (三) 不予公开", "### 行政复议", "### 行政诉讼（未经复议直接起诉）", "### 行政诉讼（复议后起诉）"):
        assert heading + "\n" in blocks
    assert "| 类别 | 数据1 | 数据2 | 数据3 | 数据4 | 数据5 | 数据6 | 总计 |" in blocks


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(st.data())
def test_break_cell_always_raises_a_finding(data: st.DataObject) -> None:
    r = data.draw(consistent_reports())
    before = dict(r.cells)
    cid, value = data.draw(single_cell_changes(r))
    assert value != r.cells[cid] and value >= 0
    faulty, found = break_cell(r, cid, value)
    assert r.cells == before and faulty.cells[cid] == value
    assert found
    known = set(cell_ids(r.template))
    assert all(at in known for _, at, _, _ in found)
    rule = "S3-ROW-SUM" if cid.startswith("s3.") else "S4-SUM"
    assert (rule, cid.rsplit(".", 1)[0] + ".total") in {(f[0], f[1]) for f in found}


@pytest.mark.parametrize("template", TEMPLATES)
def test_break_row_total_matches_the_rules(template: str) -> None:
    r = make_report(template, seed=21)
    c = r.cells
    tot, cf = c["s3.total.total"], c["s3.carried_forward.total"]
    new, cin = c["s3.new.total"], c["s3.carried_over.total"]
    for row in s3_row_keys(template):
        _, found = break_row_total(r, row)
        printed = c[f"s3.{row}.total"] + 1
        expected = {("S3-ROW-SUM", f"s3.{row}.total", printed - 1, printed)}
        if row in OUTCOME_ROWS[template]:
            expected.add(("S3-OUTCOME-SUM", "s3.total.total", tot + 1, tot))
        elif row == "total":
            expected.add(("S3-OUTCOME-SUM", "s3.total.total", tot, tot + 1))
            expected.add(("S3-BALANCE", "s3.new.total", new + cin, tot + 1 + cf))
        elif row == "carried_forward":
            expected.add(("S3-BALANCE", "s3.new.total", new + cin, tot + cf + 1))
        else:  # new, carried_over
            expected.add(("S3-BALANCE", "s3.new.total", new + cin + 1, tot + cf))
        assert found == expected, row


def test_targeted_faults() -> None:
    r = make_report("2021", seed=5)
    c = r.cells
    _, found = break_outcome_sum(r, "legal", row="denied.third_party", delta=2)
    assert found == {
        ("S3-OUTCOME-SUM", "s3.total.legal", c["s3.total.legal"] + 2, c["s3.total.legal"]),
        ("S3-OUTCOME-SUM", "s3.total.total", c["s3.total.total"] + 2, c["s3.total.total"]),
    }
    _, found = break_balance(r, "natural")
    left = c["s3.new.natural"] + c["s3.carried_over.natural"]
    right = c["s3.total.natural"] + c["s3.carried_forward.natural"]
    assert ("S3-BALANCE", "s3.new.natural", left + 1, right) in found and len(found) == 2
    for g in S4_GROUPS:
        total = c[f"s4.{g}.total"]
        assert break_s4_total(r, g)[1] == {("S4-SUM", f"s4.{g}.total", total, total + 1)}
    assert break_cell(r, "s2.fees.amount", 12.5)[1] == set()


# --------------------------------------------------------------------------------------------
# Number texts
# --------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(number_texts())
def test_number_texts_round_trip(pair: tuple[str, int]) -> None:
    text, value = pair
    t = unicodedata.normalize("NFKC", text).strip()
    if "," in t:
        assert re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", t), text
    assert int(t.replace(",", "")) == value


@settings(max_examples=200, deadline=None)
@given(number_texts(signed=True))
def test_signed_number_texts(pair: tuple[str, int]) -> None:
    text, value = pair
    t = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    assert int(t) == value
    assert not t.startswith("+") or value > 0
