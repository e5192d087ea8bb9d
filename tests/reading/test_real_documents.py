"""The real PDFs and the real web page of ../shared/corpus/real, end to end through `check`.

Every expected number below was read off the rendered pages of the documents (pypdfium2 → PNG,
looked at by a person), not produced by running the reader. The findings are the ones a careful
reader of each document makes.
"""

from __future__ import annotations

from pathlib import Path

from nianbao.check import check_bytes

COLS = ("natural", "commercial", "research", "nonprofit", "legal", "other_org", "total")
S4 = ("upheld", "corrected", "other", "pending", "total")
Z = [0, 0, 0, 0, 0, 0, 0]


def _one(n: int) -> list[int]:
    return [n, 0, 0, 0, 0, 0, n]


def _check(corpus: Path, name: str):  # type: ignore[no-untyped-def]
    return check_bytes((corpus / name).read_bytes(), name)[1]


def _assert_rows(cells: dict, rows: dict[str, list[int]]) -> None:  # type: ignore[type-arg]
    for row, values in rows.items():
        got = [cells.get(f"s3.{row}.{c}", "MISSING") for c in COLS]
        assert got == values, row


def _s4(cells: dict) -> list:  # type: ignore[type-arg]
    return [cells.get(f"s4.{g}.{f}", "MISSING") for g in ("review", "suit_direct", "suit_after_review") for f in S4]


HUAIAN_S3 = {
    "new": [3001, 53, 0, 0, 61, 4, 3119], "carried_over": _one(34),
    "granted": [1288, 21, 0, 0, 50, 3, 1362], "partial": [447, 7, 0, 0, 0, 0, 454],
    "denied.state_secret": _one(2), "denied.prohibited_by_law": [30, 1, 0, 0, 0, 0, 31],
    "denied.security_stability": _one(5), "denied.third_party": _one(6),
    "denied.internal_affairs": [7, 1, 0, 0, 0, 0, 8], "denied.process_info": _one(12),
    "denied.enforcement_file": _one(9), "denied.admin_query": _one(105),
    "unavailable.not_held": [746, 12, 0, 0, 10, 1, 769], "unavailable.needs_creation": _one(11),
    "unavailable.unclear": _one(1), "rejected.petition": [56, 6, 0, 0, 0, 0, 62],
    "rejected.duplicate": _one(25), "rejected.publication": Z, "rejected.excessive": Z,
    "rejected.confirmation": _one(1), "other.no_correction": [67, 3, 0, 0, 1, 0, 71],
    "other.no_fee": _one(6), "other.other": [108, 2, 0, 0, 0, 0, 110],
    "total": [2932, 53, 0, 0, 61, 4, 3050], "carried_forward": _one(103),
}


def test_huaian_city_2024_pdf_is_read_whole_and_accepted(real_corpus: Path) -> None:
    r = _check(real_corpus, "govnianbao_szfgs2024.pdf")
    assert (r.agency, r.year, r.template, r.status) == ("淮安市人民政府", 2024, "2021", "accepted")
    c = r.cells
    assert [c["s2.regulations.issued"], c["s2.regulations.repealed"], c["s2.regulations.in_force"]] == [1, 0, 11]
    assert [c[f"s2.normative_documents.{k}"] for k in ("issued", "repealed", "in_force")] == [8, 26, 66]
    assert [c["s2.licensing.decisions"], c["s2.punishment.decisions"], c["s2.coercion.decisions"]] == [447228, 3985758, 88283]
    assert c["s2.fees.amount"] == 96171.6
    _assert_rows(c, HUAIAN_S3)
    assert _s4(c) == [72, 64, 178, 37, 351, 13, 4, 8, 1, 26, 12, 1, 1, 6, 20]
    assert len(c) == 200
    assert r.findings == []  # the text (3119 received, 复议351, 诉讼46) agrees; 六 reports the fee


HONGZE_2023_S3 = {
    "new": _one(21), "carried_over": Z, "granted": Z, "partial": _one(4),
    "denied.state_secret": _one(1), "denied.prohibited_by_law": Z, "denied.security_stability": Z,
    "denied.third_party": Z, "denied.internal_affairs": Z, "denied.process_info": _one(1),
    "denied.enforcement_file": _one(1), "denied.admin_query": Z,
    "unavailable.not_held": _one(10), "unavailable.needs_creation": _one(3), "unavailable.unclear": Z,
    "rejected.petition": _one(1), "rejected.duplicate": Z, "rejected.publication": Z, "rejected.excessive": Z,
    "rejected.confirmation": Z, "other": Z, "total": _one(21), "carried_forward": Z,
}


def test_hongze_2023_pdf_mixed_layout_and_its_zero_table_four_totals(real_corpus: Path) -> None:
    r = _check(real_corpus, "KIROGOVCOMPARE_hzq2023_working.pdf")
    assert (r.year, r.template, r.status) == (2023, "2021", "returned")
    c = r.cells
    assert [c[f"s2.normative_documents.{k}"] for k in ("issued", "repealed", "in_force")] == [0, 5, 5]
    assert [c["s2.licensing.decisions"], c["s2.punishment.decisions"], c["s2.coercion.decisions"]] == [550, 4119, 195]
    assert c["s2.fees.amount"] == 7730.28
    # table 三 prints one （六）其他处理 row (the trial layout) under a revised table 二
    _assert_rows(c, HONGZE_2023_S3)
    assert not any(k.startswith("s3.other.no_") for k in c)
    assert _s4(c) == [10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0]
    got = {(f.rule, f.at, f.expected, f.actual) for f in r.findings}
    assert got == {("S4-SUM", "s4.review.total", 11, 0), ("S4-SUM", "s4.suit_after_review.total", 5, 0)}


def test_hongze_2024_pdf_text_says_17_applications_table_says_95(real_corpus: Path) -> None:
    r = _check(real_corpus, "KIROGOVCOMPARE_hzq2024_working.pdf")
    assert (r.year, r.template, r.status) == (2024, "2021", "accepted")
    c = r.cells
    assert [c[f"s2.normative_documents.{k}"] for k in ("issued", "repealed", "in_force")] == [3, 0, 8]
    assert [c["s2.licensing.decisions"], c["s2.punishment.decisions"], c["s2.coercion.decisions"]] == [9487, 2776, 84]
    assert c["s2.fees.amount"] == 7545
    _assert_rows(c, {"new": _one(95), "granted": _one(50), "partial": _one(9),
                     "denied.security_stability": _one(1), "unavailable.not_held": _one(31),
                     "unavailable.needs_creation": _one(1), "rejected.petition": _one(1), "other": Z,
                     "total": _one(95), "carried_forward": Z})
    assert _s4(c) == [1, 1, 0, 0, 2, 1, 0, 0, 0, 1, 2, 0, 1, 0, 3]
    assert [(f.rule, f.at, f.expected, f.actual) for f in r.findings] == [("TEXT-TABLE-MISMATCH", "s3.new.total", 95, 17)]


def test_shuyang_development_reform_2023_web_page(real_corpus: Path) -> None:
    name = "KIROGOVCOMPARE_沭阳县发展和改革局2023年政府信息公开年度报告-沭阳县发改局_2025-12-30.html"
    r = _check(real_corpus, name)
    assert (r.agency, r.year, r.template, r.status) == ("沭阳县发展和改革局", 2023, "2021", "accepted")
    c = r.cells
    # 26 applications from 自然人, all granted; the blank 法人 cells of the page read as 0
    _assert_rows(c, {"new": [26, 0, 0, 0, 0, 0, 26], "granted": [26, 0, 0, 0, 0, 0, 26],
                     "total": [26, 0, 0, 0, 0, 0, 26], "carried_forward": Z, "denied.state_secret": Z})
    # the page labels the row 规范性文件 under the revised columns: read as 行政规范性文件
    assert [c[f"s2.normative_documents.{k}"] for k in ("issued", "repealed", "in_force")] == [8, 0, 18]
    assert _s4(c) == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert len(c) == 200
    assert r.findings == []  # 五's title is non-standard (…及整改措施) but recognisable; 六 reports no fee
