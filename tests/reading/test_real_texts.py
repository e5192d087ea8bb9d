"""The real text renderings in ../shared/corpus/real: read without a crash, numbers as printed.

Expected values were copied from the documents themselves (their tables as printed), not from
running the reader. Where an extraction is too garbled to place a number, the reader must say
the cell is missing rather than guess.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.check import check_bytes

SHUYANG = "KIROGOVCOMPARE_沭阳县人民政府2025年政府信息公开工作年度报告-沭阳县人民政府.txt"
S3_ROWS_SHUYANG = {
    "new": [705, 3, 0, 0, 5, 0, 713],
    "carried_over": [36, 0, 0, 0, 0, 0, 36],
    "granted": [290, 1, 0, 0, 3, 0, 294],
    "partial": [99, 0, 0, 0, 2, 0, 101],
    "denied.state_secret": [0, 0, 0, 0, 0, 0, 0],
    "denied.prohibited_by_law": [0, 0, 0, 0, 0, 0, 0],
    "denied.security_stability": [2, 0, 0, 0, 0, 0, 2],
    "denied.third_party": [2, 0, 0, 0, 0, 0, 2],
    "denied.internal_affairs": [13, 0, 0, 0, 0, 0, 13],
    "denied.process_info": [2, 0, 0, 0, 0, 0, 2],
    "denied.enforcement_file": [4, 0, 0, 0, 0, 0, 4],
    "denied.admin_query": [9, 0, 0, 0, 0, 0, 9],
    "unavailable.not_held": [111, 0, 0, 0, 0, 0, 111],
    "unavailable.needs_creation": [2, 0, 0, 0, 0, 0, 2],
    "unavailable.unclear": [0, 0, 0, 0, 0, 0, 0],
    "rejected.petition": [12, 0, 0, 0, 0, 0, 12],
    "rejected.duplicate": [6, 1, 0, 0, 0, 0, 7],
    "rejected.publication": [0, 0, 0, 0, 0, 0, 0],
    "rejected.excessive": [0, 0, 0, 0, 0, 0, 0],
    "rejected.confirmation": [0, 0, 0, 0, 0, 0, 0],
    "other.no_correction": [9, 0, 0, 0, 0, 0, 9],
    "other.no_fee": [7, 0, 0, 0, 0, 0, 7],
    "other.other": [142, 1, 0, 0, 0, 0, 143],
    "total": [710, 3, 0, 0, 5, 0, 718],
    "carried_forward": [31, 0, 0, 0, 0, 0, 31],
}
COLS = ("natural", "commercial", "research", "nonprofit", "legal", "other_org", "total")
S4 = ("upheld", "corrected", "other", "pending", "total")


def _check(corpus: Path, name: str):  # type: ignore[no-untyped-def]
    path = corpus / name
    return check_bytes(path.read_bytes(), str(path))


def _row(cells: dict, prefix: str, cols: tuple[str, ...]) -> list:  # type: ignore[type-arg]
    return [cells.get(f"{prefix}.{c}", "MISSING") for c in cols]


def test_shuyang_county_2025_every_cell_as_printed(real_corpus: Path) -> None:
    report, result = _check(real_corpus, SHUYANG)
    assert report is not None
    assert (result.agency, result.year, result.template) == ("沐阳县人民政府", 2025, "2021")
    c = result.cells
    assert _row(c, "s2.regulations", ("issued", "repealed", "in_force")) == [0, 0, 0]
    assert _row(c, "s2.normative_documents", ("issued", "repealed", "in_force")) == [6, 1, 32]
    assert [c["s2.licensing.decisions"], c["s2.punishment.decisions"], c["s2.coercion.decisions"]] == [517645, 693957, 2154]
    assert c["s2.fees.amount"] == 4068.208
    for row, values in S3_ROWS_SHUYANG.items():
        assert _row(c, f"s3.{row}", COLS) == values, row
    assert _row(c, "s4.review", S4) == [27, 10, 9, 15, 61]
    assert _row(c, "s4.suit_direct", S4) == [3, 0, 0, 0, 3]
    assert _row(c, "s4.suit_after_review", S4) == [8, 0, 1, 1, 10]
    # the published tables add up, and 749 received = 713 new + 36 carried over
    assert result.status == "accepted"
    assert result.findings == []


def test_huaian_truncated_extraction_reads_what_is_there(real_corpus: Path) -> None:
    _, result = _check(real_corpus, "govnianbao_section3_raw_text.txt")
    c = result.cells
    assert _row(c, "s3.new", COLS) == [3001, 53, 0, 0, 61, 4, 3119]
    assert _row(c, "s3.carried_over", COLS) == [34, 0, 0, 0, 0, 0, 34]
    assert _row(c, "s3.granted", COLS) == [1288, 21, 0, 0, 50, 3, 1362]
    assert _row(c, "s3.partial", COLS) == [447, 7, 0, 0, 0, 0, 454]
    assert _row(c, "s3.denied.admin_query", COLS) == [105, 0, 0, 0, 0, 0, 105]
    assert _row(c, "s3.unavailable.not_held", COLS) == [746, 12, 0, 0, 10, 1, 769]
    assert c["s2.punishment.decisions"] == 3985758 and c["s2.coercion.decisions"] == 88283
    assert c["s2.fees.amount"] == 96171.6
    rules = {(f.rule, f.at) for f in result.findings}
    assert ("CELL-MISSING", "s3.total.total") in rules  # the extraction stops before (七)总计
    assert ("TABLE-MISSING", "s4") in rules


def test_kewei_2024_messy_extraction(real_corpus: Path) -> None:
    _, result = _check(real_corpus, "KIROGOVCOMPARE_kewei-2024-source.md")
    c = result.cells
    assert (result.agency, result.year) == ("上海市科委", 2024)
    assert _row(c, "s2.normative_documents", ("issued", "repealed", "in_force")) == [13, 0, 55]
    assert c["s2.licensing.decisions"] == 97
    assert _row(c, "s3.new", COLS) == [32, 2, 0, 0, 0, 0, 34]
    assert _row(c, "s3.total", COLS) == [33, 2, 0, 0, 0, 0, 35]
    assert _row(c, "s4.review", S4) == [1, 0, 0, 0, 1]
    assert _row(c, "s4.suit_direct", S4) == [0, 0, 0, 0, 0]
    # rows whose numbers the extraction separated from their labels are reported, not guessed
    assert "s3.partial.natural" not in c
    assert any(f.rule == "CELL-MISSING" and f.at == "s3.partial.natural" for f in result.findings)


def test_shanghai_office_2025_messy_extraction(real_corpus: Path) -> None:
    _, result = _check(real_corpus, "KIROGOVCOMPARE_shanghai-office-sample-source.md")
    c = result.cells
    assert (result.agency, result.year) == ("上海市人民政府办公厅", 2025)
    assert _row(c, "s3.new", COLS) == [1259, 36, 0, 0, 0, 0, 1295]
    assert _row(c, "s3.carried_over", COLS) == [170, 15, 0, 0, 4, 0, 189]
    assert _row(c, "s3.unavailable.not_held", COLS) == [484, 28, 0, 0, 1, 0, 513]
    assert _row(c, "s3.total", COLS) == [1139, 48, 0, 0, 4, 0, 1191]
    assert _row(c, "s3.carried_forward", COLS) == [290, 3, 0, 0, 0, 0, 293]
    assert _row(c, "s4.review", S4) == [40, 0, 10, 5, 55]
    assert _row(c, "s4.suit_direct", S4) == [2, 0, 4, 6, 12]
    assert _row(c, "s4.suit_after_review", S4) == [6, 0, 9, 7, 22]
    # 规章 22 (其中修订16件) / 55 / 235: the extraction lost a column, so the row is not placed
    assert "s2.regulations.issued" not in c
    # "未发生因依申请公开被行政复议纠错" is not a claim that there was no 行政复议
    assert not any(f.rule == "TEXT-TABLE-MISMATCH" for f in result.findings)


@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_every_real_text_reads_without_a_crash(real_corpus: Path, suffix: str) -> None:
    for path in sorted(real_corpus.glob(f"*{suffix}")):
        if path.name == "SOURCES.md":  # the corpus's own notes: not a report, and said so
            assert check_bytes(path.read_bytes(), str(path))[1].status == "failed"
            continue
        _, result = check_bytes(path.read_bytes(), str(path))
        assert result.status in ("accepted", "returned")
        assert not any(f.rule == "PARSE-FAILED" for f in result.findings), path.name
