"""Pass and fail cases for the rules that need context (``nianbao.rules.context``).

Reports are built directly from cell values, so each case states exactly what the rule sees; one
case at the end goes through the real parser with ``sample_inputs/cangtai-2023.txt``. Findings are
compared as ``(rule, at, expected, actual)`` tuples, not prose (style.md, habit 5).
"""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import nianbao.rules.context as ctxrules
from nianbao.check import CheckContext, check_bytes
from nianbao.model.cells import catalog
from nianbao.model.report import CellValue, Report, ReportMeta, Source
from nianbao.rules.base import REGISTRY

SAMPLE = Path(__file__).resolve().parents[2] / "sample_inputs" / "cangtai-2023.txt"
RULES_MD = Path(ctxrules.__file__).resolve().parents[1] / "spec" / "rules.md"
CST = timezone(timedelta(hours=8))
C7 = ("natural", "commercial", "research", "nonprofit", "legal", "other_org", "total")
CONTEXT_RULES = ("AGENCY-MISMATCH", "LATE-SUBMISSION", "CARRYOVER-MISMATCH", "IN-FORCE-DISCONTINUITY",
                 "NARRATIVE-COPIED")


def make_report(
    year: int | None = 2023,
    cells: dict[str, int | float | None] | None = None,
    *,
    agency: str | None = "苍台镇人民政府",
    template: str = "2021",
    sections: dict[str, str] | None = None,
) -> Report:
    """A report holding exactly the given cells (``None`` = present but invalid)."""
    out: dict[str, CellValue] = {}
    for cid, v in (cells or {}).items():
        spec = catalog()[cid]
        out[cid] = CellValue(id=cid, raw="" if v is None else str(v), value=v,
                             source=Source(table=spec.table, row_label=spec.row_label))
    return Report(
        source=f"inbox/x/{year}/r.txt",
        meta=ReportMeta(title=f"{agency}{year}年政府信息公开工作年度报告", agency=agency, year=year, title_year=year),
        template=template,  # type: ignore[arg-type]
        layouts={"s2": template, "s3": template, "s4": template},  # type: ignore[dict-item]
        sections=sections or {},
        cells=out,
    )


def run(rule_id: str, report: Report, context: CheckContext) -> list[tuple[str, str, object, object]]:
    return [(f.rule, f.at, f.expected, f.actual) for f in REGISTRY[rule_id].run(report, context)]


def lookup(reports: dict[int, Report]):
    """A prior-year lookup over a dict, recording which years were asked for."""
    asked: list[int] = []

    def prior_year(year: int) -> Report | None:
        asked.append(year)
        return reports.get(year)

    prior_year.asked = asked  # type: ignore[attr-defined]
    return prior_year


# --- the catalog -----------------------------------------------------------------------------


def _context_table() -> dict[str, tuple[str, str]]:
    """rule id → (severity, anchor) from the second table of rules.md."""
    text = RULES_MD.read_text(encoding="utf-8")
    table = text.split("Rules that need context beyond one file", 1)[1]
    rows = re.findall(r"^\| `([A-Z0-9-]+)` \| (\w+) \| `([^`]+)` \|", table, flags=re.M)
    return {rid: (sev, anchor) for rid, sev, anchor in rows}


def test_every_context_rule_is_registered_as_rules_md_says() -> None:
    table = _context_table()
    assert set(table) == set(CONTEXT_RULES)
    for rid, (severity, anchor) in table.items():
        spec = REGISTRY[rid].spec
        assert (spec.severity, spec.anchor, spec.needs_context) == (severity, anchor, True), rid
        assert spec.summary, f"{rid} has no docstring summary"


@pytest.mark.parametrize("rule_id", CONTEXT_RULES)
def test_no_context_no_finding(rule_id: str) -> None:
    """``nianbao check`` has no context: none of these rules may fire."""
    r = make_report(cells={f"s3.carried_over.{c}": 5 for c in C7}, sections={"sec1": "一" * 500})
    assert run(rule_id, r, CheckContext()) == []


# --- AGENCY-MISMATCH -------------------------------------------------------------------------


@pytest.mark.parametrize(("registry", "title"), [
    ("苍台镇人民政府", "苍台镇人民政府"),
    ("苍台镇人民政府", "苍台镇 人民政府"),
    ("苍台镇人民政府", "苍台镇政府"),          # 人民政府 abbreviated
    ("苍台镇人民政府", "苍台镇"),              # 人民政府 left out of the title
    ("某市某区人民政府", "某区人民政府"),        # the higher level left out
    ("某县人民政府办公室", "某县政府办公室"),
    ("某县发展和改革局", "某县发展和改革局"),
    ("某县发展和改革局", "发展和改革局"),
    ("某县（市）教育局", "某县(市)教育局"),      # full-width vs half-width brackets
])
def test_agency_names_that_match(registry: str, title: str) -> None:
    assert ctxrules.agencies_match(registry, title)
    r = make_report(agency=title)
    assert run("AGENCY-MISMATCH", r, CheckContext(agency_name=registry)) == []


@pytest.mark.parametrize(("registry", "title"), [
    ("苍台镇人民政府", "白水镇人民政府"),
    ("某县人民政府", "某县人民政府办公室"),       # the government is not its office
    ("某县人民政府办公室", "某县"),
    ("某县教育局", "某县"),                    # a county's report uploaded by its bureau
    ("某县发展和改革局", "某县发改局"),          # not a containment: a person should look
])
def test_agency_names_that_do_not_match(registry: str, title: str) -> None:
    assert not ctxrules.agencies_match(registry, title)
    r = make_report(agency=title)
    assert run("AGENCY-MISMATCH", r, CheckContext(agency_name=registry)) == [
        ("AGENCY-MISMATCH", "meta.agency", registry, title)
    ]
    (f,) = REGISTRY["AGENCY-MISMATCH"].run(r, CheckContext(agency_name=registry))
    assert registry in f.message and title in f.message and f.severity == "warning"


def test_agency_unknown_title_is_skipped() -> None:
    assert run("AGENCY-MISMATCH", make_report(agency=None), CheckContext(agency_name="苍台镇人民政府")) == []


# --- LATE-SUBMISSION -------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "local", "received", "late"), [
    ("department", None, datetime(2024, 1, 31, 23, 59, tzinfo=CST), False),
    ("department", None, datetime(2024, 2, 1, 0, 1, tzinfo=CST), True),
    # 2024-01-31 16:30 UTC is 2024-02-01 00:30 in China: late, though still 01-31 in UTC.
    ("department", None, datetime(2024, 1, 31, 16, 30, tzinfo=UTC), True),
    ("department", None, datetime(2024, 1, 31, 15, 59, tzinfo=UTC), False),
    ("department", None, datetime(2024, 1, 31, 16, 30), True),  # naive = UTC
    ("government", None, datetime(2024, 3, 31, 18, 0, tzinfo=CST), False),
    ("government", None, datetime(2024, 4, 1, 9, 0, tzinfo=CST), True),
    ("town", "02-20", datetime(2024, 2, 20, 23, 0, tzinfo=CST), False),
    ("town", "02-20", datetime(2024, 2, 21, 8, 0, tzinfo=CST), True),
    ("town", None, datetime(2024, 12, 1, tzinfo=CST), False),     # no deadline configured: skip
    (None, None, datetime(2024, 12, 1, tzinfo=CST), False),
    ("town", "garbage", datetime(2024, 12, 1, tzinfo=CST), False),
])
def test_late_submission(level: str | None, local: str | None, received: datetime, late: bool) -> None:
    ctx = CheckContext(agency_level=level, local_deadline=local, received_at=received)
    got = run("LATE-SUBMISSION", make_report(2023), ctx)
    assert bool(got) == late
    if late:
        (rule_id, at, expected, actual), = got
        assert (rule_id, at) == ("LATE-SUBMISSION", "meta.received_at")
        assert expected == {"department": "2024-01-31", "government": "2024-03-31", "town": "2024-02-20"}[level]
        assert actual.startswith(received.astimezone(CST).strftime("%Y-%m-%dT%H:%M"))


def test_late_submission_uses_the_declared_year_when_the_report_has_none() -> None:
    ctx = CheckContext(declared_year=2022, agency_level="department", received_at=datetime(2023, 3, 1, tzinfo=CST))
    assert run("LATE-SUBMISSION", make_report(None), ctx) == [
        ("LATE-SUBMISSION", "meta.received_at", "2023-01-31", "2023-03-01T00:00+08:00")
    ]
    (f,) = REGISTRY["LATE-SUBMISSION"].run(make_report(None), ctx)
    assert "2023年1月31日" in f.message and "2023年3月1日" in f.message and "第四十九条" in f.message


def test_local_deadline_of_february_29_in_a_common_year() -> None:
    assert ctxrules.deadline(2022, "town", "02-29") == (datetime(2023, 2, 28).date(), "本地规定的报送时限")
    assert ctxrules.deadline(2023, "town", "02-29")[0] == datetime(2024, 2, 29).date()  # type: ignore[index]


# --- CARRYOVER-MISMATCH ----------------------------------------------------------------------


def carried(row: str, values: dict[str, int | None]) -> dict[str, int | float | None]:
    return {f"s3.{row}.{c}": values.get(c, 0) for c in C7}


def test_carryover_matches_prior_year() -> None:
    this = make_report(2023, carried("carried_over", {"natural": 2, "legal": 1, "total": 3}))
    prior = make_report(2022, carried("carried_forward", {"natural": 2, "legal": 1, "total": 3}))
    prior_year = lookup({2022: prior})
    assert run("CARRYOVER-MISMATCH", this, CheckContext(prior_year=prior_year)) == []
    assert prior_year.asked == [2022]  # type: ignore[attr-defined]


def test_carryover_mismatch_per_column() -> None:
    this = make_report(2023, carried("carried_over", {"natural": 2, "legal": 1, "total": 3}))
    prior = make_report(2022, carried("carried_forward", {"natural": 2, "legal": 4, "total": 6}))
    ctx = CheckContext(prior_year=lookup({2022: prior}))
    assert run("CARRYOVER-MISMATCH", this, ctx) == [
        ("CARRYOVER-MISMATCH", "s3.carried_over.legal", 4, 1),
        ("CARRYOVER-MISMATCH", "s3.carried_over.total", 6, 3),
    ]
    f = REGISTRY["CARRYOVER-MISMATCH"].run(this, ctx)[0]
    assert "法律服务机构" in f.message and "2022年度" in f.message and "4" in f.message
    assert f.location and "上年结转" in f.location


def test_carryover_across_the_2020_to_2021_template_change() -> None:
    this = make_report(2021, carried("carried_over", {"natural": 1, "total": 1}), template="2021")
    prior = make_report(2020, carried("carried_forward", {"natural": 3, "total": 3}), template="2019")
    assert run("CARRYOVER-MISMATCH", this, CheckContext(prior_year=lookup({2020: prior}))) == [
        ("CARRYOVER-MISMATCH", "s3.carried_over.natural", 3, 1),
        ("CARRYOVER-MISMATCH", "s3.carried_over.total", 3, 1),
    ]


def test_carryover_skips_missing_and_invalid_cells_and_missing_prior() -> None:
    this = make_report(2023, {"s3.carried_over.natural": None, "s3.carried_over.total": 9})
    prior = make_report(2022, {"s3.carried_forward.natural": 5})  # no total in the prior report
    assert run("CARRYOVER-MISMATCH", this, CheckContext(prior_year=lookup({2022: prior}))) == []
    assert run("CARRYOVER-MISMATCH", this, CheckContext(prior_year=lookup({}))) == []


# --- IN-FORCE-DISCONTINUITY ------------------------------------------------------------------


def s2(issued: int, repealed: int, in_force: int | None, row: str = "normative_documents") -> dict[str, int | None]:
    return {f"s2.{row}.issued": issued, f"s2.{row}.repealed": repealed, f"s2.{row}.in_force": in_force}


def test_in_force_continues() -> None:
    this = make_report(2023, {**s2(3, 1, 12), **s2(0, 0, 0, "regulations")})
    prior = make_report(2022, {**s2(2, 0, 10), **s2(0, 0, 0, "regulations")})
    assert run("IN-FORCE-DISCONTINUITY", this, CheckContext(prior_year=lookup({2022: prior}))) == []


def test_in_force_discontinuity() -> None:
    this = make_report(2023, {**s2(3, 1, 32), **s2(1, 0, 2, "regulations")})
    prior = make_report(2022, {**s2(2, 0, 10), **s2(0, 0, 1, "regulations")})
    ctx = CheckContext(prior_year=lookup({2022: prior}))
    assert run("IN-FORCE-DISCONTINUITY", this, ctx) == [
        ("IN-FORCE-DISCONTINUITY", "s2.normative_documents.in_force", 12, 32),
    ]
    (f,) = REGISTRY["IN-FORCE-DISCONTINUITY"].run(this, ctx)
    assert "行政规范性文件" in f.message and "(10)" in f.message and "12" in f.message and "32" in f.message


@pytest.mark.parametrize(("year", "this_t", "prior_t"), [(2021, "2021", "2019"), (2022, "2021", "2019"),
                                                         (2022, "2019", "2019")])
def test_in_force_needs_2022_on_and_the_2021_layout_both_years(year: int, this_t: str, prior_t: str) -> None:
    this = make_report(year, s2(3, 1, 99), template=this_t)
    prior = make_report(year - 1, s2(2, 0, 10), template=prior_t)
    assert run("IN-FORCE-DISCONTINUITY", this, CheckContext(prior_year=lookup({year - 1: prior}))) == []


def test_in_force_skips_invalid_cells() -> None:
    this = make_report(2023, s2(3, 1, None))
    prior = make_report(2022, s2(2, 0, 10))
    assert run("IN-FORCE-DISCONTINUITY", this, CheckContext(prior_year=lookup({2022: prior}))) == []


# --- NARRATIVE-COPIED ------------------------------------------------------------------------

_WORDS = ("政务公开", "信息管理", "平台建设", "监督保障", "依申请公开", "主动公开", "规范性文件", "工作台账",
          "审查机制", "政策解读", "回应关切", "基层政务", "公开指南", "培训", "考核", "督导检查", "整改",
          "网站", "栏目", "更新", "便民服务", "财政预决算", "重大项目", "乡村振兴", "民生保障")


def narrative_text(seed: int, chars: int = 3000, year: int = 2023) -> str:
    """A plausible narrative: unique clauses built from common words, with years and counts."""
    rng = random.Random(seed)
    out: list[str] = []
    while sum(map(len, out)) < chars:
        words = "".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 5)))
        out.append(f"{year}年{words}共{rng.randint(1, 300)}条{rng.choice('，。；')}")
    return "".join(out)[:chars]


def test_narrative_copied_from_last_year() -> None:
    last = narrative_text(1, year=2022)
    this = make_report(2023, sections={"sec1": last.replace("2022", "2023")})
    prior = make_report(2022, sections={"sec1": last})
    assert run("NARRATIVE-COPIED", this, CheckContext(prior_year=lookup({2022: prior}))) == [
        ("NARRATIVE-COPIED", "sec1", "低于90%", "100%")
    ]


def test_narrative_rewritten_is_not_copied() -> None:
    this = make_report(2023, sections={"sec1": narrative_text(1)})
    prior = make_report(2022, sections={"sec1": narrative_text(2, year=2022)})
    assert run("NARRATIVE-COPIED", this, CheckContext(prior_year=lookup({2022: prior}))) == []


def test_narrative_partly_rewritten() -> None:
    """About 5 % of clauses rewritten still counts as copied; about 25 % does not."""
    last = narrative_text(3, year=2022)
    clauses = re.split(r"(?<=[，。；])", last)
    rng = random.Random(4)

    def rewrite(fraction: float) -> str:
        out = list(clauses)
        for i in rng.sample(range(len(out)), int(len(out) * fraction)):
            out[i] = "本年度另行撰写了全新的工作内容说明，"
        return "".join(out)

    prior = make_report(2022, sections={"sec1": last})
    ctx = CheckContext(prior_year=lookup({2022: prior}))
    assert run("NARRATIVE-COPIED", make_report(2023, sections={"sec1": rewrite(0.05)}), ctx)
    assert run("NARRATIVE-COPIED", make_report(2023, sections={"sec1": rewrite(0.25)}), ctx) == []


def test_narrative_falls_back_to_all_sections_and_skips_short_text() -> None:
    text = narrative_text(5, chars=800)
    this = make_report(2023, sections={"sec5": text[:400], "sec6": text[400:]})
    prior = make_report(2022, sections={"sec5": text[:400], "sec6": text[400:]})
    assert run("NARRATIVE-COPIED", this, CheckContext(prior_year=lookup({2022: prior}))) != []
    short = make_report(2023, sections={"sec1": "全年未发生责任追究情况。"})
    short_prior = make_report(2022, sections={"sec1": "全年未发生责任追究情况。"})
    assert run("NARRATIVE-COPIED", short, CheckContext(prior_year=lookup({2022: short_prior}))) == []


def test_similarity_agrees_with_difflib_and_is_fast() -> None:
    """The two-step similarity equals SequenceMatcher.ratio() here and takes < 20 ms on 3,000 chars."""
    import difflib

    a = narrative_text(6)
    b = list(a)
    rng = random.Random(7)
    for i in rng.sample(range(len(b)), 90):  # 3 % of characters changed, scattered
        b[i] = "改"
    b_text = "".join(b)
    fast = ctxrules.similarity(a, b_text)
    norm = ["".join(ctxrules._clauses(t)) for t in (a, b_text)]
    exact = difflib.SequenceMatcher(None, *norm, autojunk=False).ratio()
    assert fast == pytest.approx(exact, abs=0.01)
    for x, y in ((a, b_text), (a, narrative_text(8)), (a, a)):
        best = min(_timed(ctxrules.similarity, x, y) for _ in range(5))
        assert best < 0.020, f"similarity took {best * 1000:.1f} ms"


def _timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


# --- through the real parser -----------------------------------------------------------------


def test_sample_report_against_a_prior_year_built_from_it() -> None:
    """The sample as this year; last year = the same report with carried_forward.natural = 2."""
    this, result = check_bytes(SAMPLE.read_bytes(), "inbox/cangtai/2023/cangtai-2023.txt")
    assert this is not None and result.status == "accepted"
    prior = this.model_copy(deep=True)
    prior.meta.year = 2022
    prior.cells["s3.carried_forward.natural"].value = 2
    prior.cells["s3.carried_forward.total"].value = 2
    ctx = CheckContext(
        agency_name="苍台镇人民政府",
        agency_level="town",
        local_deadline="01-31",
        received_at=datetime(2024, 2, 5, 10, 0, tzinfo=CST),
        prior_year=lookup({2022: prior}),
    )
    got = [t for rid in CONTEXT_RULES for t in run(rid, this, ctx)]
    assert got == [
        ("LATE-SUBMISSION", "meta.received_at", "2024-01-31", "2024-02-05T10:00+08:00"),
        ("CARRYOVER-MISMATCH", "s3.carried_over.natural", 2, 0),
        ("CARRYOVER-MISMATCH", "s3.carried_over.total", 2, 0),
        ("NARRATIVE-COPIED", "sec1", "低于90%", "100%"),
    ]
