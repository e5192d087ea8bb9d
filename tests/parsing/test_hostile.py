"""Hostile and broken files: every reader answers cleanly, in bounded time and memory.

"Cleanly" is :func:`tests.helpers.mutate.result_problems`: a well-formed result (status accepted,
returned or failed; failed exactly when the one finding is ``PARSE-FAILED``), never the reader-bug
answer (「内部错误」). Time bounds are generous for a loaded 2-core CI machine; memory is measured
in a fresh process (peak RSS growth while the file is checked). The files are built by
``tests/helpers/hostile.py``; the limits they run into are in ``nianbao.parsing.limits``.
"""

from __future__ import annotations

import io
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from nianbao.check import check_bytes
from nianbao.model.report import CheckResult
from nianbao.parsing import limits
from nianbao.parsing.detect import MSG_BINARY, MSG_EMPTY, MSG_OLD_OFFICE
from nianbao.parsing.docx import MSG_CORRUPT as DOCX_CORRUPT
from nianbao.parsing.pdf.refusals import MSG_ENCRYPTED, MSG_NO_TEXT
from nianbao.parsing.xlsx import MSG_CORRUPT as XLSX_CORRUPT
from tests.helpers import hostile as h
from tests.helpers.mutate import result_problems

SECONDS = 10.0
"""Any hostile file, on a loaded 2-core CI machine (they take 0.01–3 s on an idle one)."""
BOMB_MB = 300
"""Peak memory growth allowed while a bomb is refused (a gigabyte once inflated)."""


def check(data: bytes, name: str, seconds: float = SECONDS) -> CheckResult:
    """``check_bytes`` on a hostile file: a well-formed answer, in time."""
    return h.check_in_time(data, name, seconds)


def refused(result: CheckResult, reason: str) -> None:
    assert result.status == "failed"
    assert reason in result.findings[0].message, result.findings[0].message


# --- zip packages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_zip_bomb_is_refused_without_inflating_it(kind: str, tmp_path: Path) -> None:
    bomb = h.docx_zip_bomb() if kind == "docx" else h.xlsx_zip_bomb()
    assert len(bomb) < 2 * h.MiB  # a gigabyte of zeros
    run = h.check_in_subprocess(bomb, f"report.{kind}", tmp_path)
    assert run["status"] == "failed" and limits.MSG_ZIP_BOMB in run["messages"][0]
    assert run["seconds"] < SECONDS
    assert run["rss_mb"] < BOMB_MB, run


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_part_inflating_past_its_declared_size_is_refused_in_bounded_memory(kind: str, tmp_path: Path) -> None:
    """The main part declares 1 KB (with the CRC of those 1,024 zeros) and inflates to 1 GB."""
    run = h.check_in_subprocess(h.lying_part(kind), f"report.{kind}", tmp_path)
    assert run["status"] == "failed"
    assert (DOCX_CORRUPT if kind == "docx" else XLSX_CORRUPT) in run["messages"][0]
    assert run["seconds"] < SECONDS
    assert run["rss_mb"] < BOMB_MB, run


def test_zipfile_stops_at_the_declared_size_and_read_member_notices_the_rest() -> None:
    import tracemalloc

    lie = h.build_zip([h.zeros_member("word/document.xml", 256 * h.MiB, declared=1024, crc=zlib.crc32(bytes(1024)))])
    with zipfile.ZipFile(io.BytesIO(lie)) as zf:
        with zf.open("word/document.xml") as fh:
            assert fh.read(10 * h.MiB) == bytes(1024)  # ZipExtFile ends at file_size (and the CRC fits)
        tracemalloc.start()
        try:
            with pytest.raises(zipfile.BadZipFile):  # the CRC of 1,025 bytes, or "more data than declared"
                limits.read_member(zf, "word/document.xml")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 4 * h.MiB  # chunks of 64 KB, not the 256 MB behind the header


def test_read_member_reads_an_honest_part_whole() -> None:
    content = "年度报告".encode() * 50_000
    data = h.build_zip([h.deflated("a.xml", content), h.stored("b.xml", b"<b/>")])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert limits.read_member(zf, "a.xml") == content
        assert limits.read_member(zf, "b.xml") == b"<b/>"


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_package_of_thousands_of_parts_is_refused(kind: str) -> None:
    refused(check(h.many_members(kind), f"report.{kind}"), limits.MSG_ZIP_BOMB)


@pytest.mark.parametrize("name", ["report.docx", "upload.bin"])
def test_a_million_entry_directory_is_refused_before_it_is_parsed(name: str) -> None:
    """47 MB of directory: zipfile would take 10 s and 300 MB to list it."""
    refused(check(h.huge_directory_zip(), name, seconds=3.0), limits.MSG_ZIP_BOMB)


def test_the_sniffer_refuses_a_bomb_whatever_its_name() -> None:
    refused(check(h.docx_zip_bomb(), "upload.zip"), limits.MSG_ZIP_BOMB)


def test_honest_packages_pass_the_zip_guard() -> None:
    for data in (h.docx_report(), h.xlsx_report()):
        with limits.open_zip(data) as zf:
            limits.verify_members(zf, limits.xml_budget())


# --- XML: entities, external references ------------------------------------------------------------------


def test_openpyxl_parses_with_defusedxml() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    with h.counting_http_server() as (url, hits):
        yield url, hits


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("FILE-SECRET-7f3a9c", encoding="utf-8")
    return path


def _assert_nothing_leaked(data: bytes, name: str, hits: list[str]) -> CheckResult:
    start = len(hits)
    report, result = check_bytes(data, name)
    assert result_problems(result) == []
    everything = result.model_dump_json() + (report.model_dump_json() if report is not None else "")
    assert "FILE-SECRET" not in everything
    assert "HTTP-SECRET" not in everything
    assert "lollol" not in everything
    assert hits[start:] == []
    return result


@pytest.mark.parametrize("attack", h.ATTACKS)
@pytest.mark.parametrize("part", ["document", "styles", "numbering"])
def test_docx_entities_are_never_expanded_or_fetched(
    part: str, attack: str, secret: Path, server: tuple[str, list[str]]
) -> None:
    url, hits = server
    start = time.perf_counter()
    result = _assert_nothing_leaked(h.docx_with_entities(part, attack, secret, url), "report.docx", hits)
    assert time.perf_counter() - start < SECONDS
    if attack != "laughs":  # libxml2 refuses the billion laughs outright; the rest is simply not expanded
        assert result.status != "failed" and result.cells


@pytest.mark.parametrize("attack", h.ATTACKS)
@pytest.mark.parametrize("part", ["sharedStrings", "sheet1", "styles", "workbook"])
def test_xlsx_entities_are_never_expanded_or_fetched(
    part: str, attack: str, secret: Path, server: tuple[str, list[str]]
) -> None:
    url, hits = server
    start = time.perf_counter()
    _assert_nothing_leaked(h.xlsx_with_entities(part, attack, secret, url), "report.xlsx", hits)
    assert time.perf_counter() - start < SECONDS


@pytest.mark.parametrize("attack", h.ATTACKS)
def test_html_entities_and_remote_references_are_never_fetched(
    attack: str, secret: Path, server: tuple[str, list[str]]
) -> None:
    url, hits = server
    result = _assert_nothing_leaked(h.html_with_entities(attack, secret, url), "report.html", hits)
    assert result.status == "accepted" and result.cells


@pytest.mark.parametrize(("kind", "part"), [("docx", "document"), ("xlsx", "sharedStrings"), ("html", "")])
def test_billion_laughs_cost_no_memory(kind: str, part: str, secret: Path, tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/"  # nothing listens: a fetch would fail, and must not even be tried
    if kind == "docx":
        data = h.docx_with_entities(part, "laughs", secret, url)
    elif kind == "xlsx":
        data = h.xlsx_with_entities(part, "laughs", secret, url)
    else:
        data = h.html_with_entities("laughs", secret, url)
    run = h.check_in_subprocess(data, f"report.{kind}", tmp_path)
    assert run["seconds"] < SECONDS
    assert run["rss_mb"] < 100, run


# --- HTML: depth, size, spans ----------------------------------------------------------------------------


@pytest.mark.parametrize(("depth", "tag"), [(200_000, "div"), (150_000, "div"), (150_000, "span"), (100_000, "td"),
                                            (150_000, "table")])  # fmt: skip
def test_deeply_nested_html_is_answered_without_recursion_errors(depth: int, tag: str) -> None:
    check(h.deep_html(depth, tag), "deep.html")


@pytest.mark.parametrize("depth", [200, 20_000, 60_000])
def test_deeply_nested_html_tables(depth: int) -> None:
    check(h.deep_tables_html(depth), "tables.html")


def test_an_html_table_of_100000_rows_is_refused() -> None:
    refused(check(h.long_table_html(100_000), "long.html"), limits.MSG_TOO_BIG)


def test_an_html_table_of_5000_rows_is_read_in_time() -> None:
    check(h.long_table_html(5_000), "long.html")


def test_huge_colspans_and_rowspans_are_capped() -> None:
    refused(check(h.huge_spans_html(2_000, 100_000), "spans.html"), limits.MSG_TOO_BIG)
    check(h.huge_spans_html(40, 100_000), "spans.html")  # capped at MAX_SPAN: read, not refused


def test_spans_are_capped_at_max_span() -> None:
    from nianbao.parsing.html import read

    doc = read(b'<table><tr><td colspan="100000" rowspan="100000">a</td><td>b</td></tr><tr><td>c</td></tr></table>')
    first = doc.rows[0].cells
    assert first[0].colspan == limits.MAX_SPAN and first[0].rowspan == 2  # rowspan: cut to the rows there are
    assert first[1].col == limits.MAX_SPAN


# --- empty, random and foreign files ---------------------------------------------------------------------

EXTENSIONS = [".pdf", ".docx", ".xlsx", ".html", ".txt", ".doc", ""]


@pytest.mark.parametrize("ext", EXTENSIONS)
@pytest.mark.parametrize("data", [b"", b"   \r\n\t  \n", b"\x00" * 100, "\u3000\n".encode()], ids=["empty", "spaces", "nuls", "ideographic"])
def test_empty_and_blank_files_are_refused(data: bytes, ext: str) -> None:
    result = check(data, "report" + ext)
    assert result.status == "failed"
    if data.strip(b" \t\r\n\x00") == b"":
        assert MSG_EMPTY in result.findings[0].message


@pytest.mark.parametrize("ext", EXTENSIONS)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("prefix", [b"", b"PK\x03\x04", b"%PDF-1.7\n", b"<html>", b"\xff\xfe"])
def test_random_bytes_under_every_name(ext: str, seed: int, prefix: bytes) -> None:
    result = check(prefix + h.random_bytes(20_000, seed), "report" + ext)
    assert result.status == "failed"


def test_random_bytes_are_called_unrecognised() -> None:
    refused(check(h.random_bytes(5_000, 1), "report.pdf"), MSG_BINARY)


@pytest.mark.parametrize("name", ["report.doc", "report.docx", "report.xls"])
def test_an_old_binary_word_file_is_refused_with_what_to_do(name: str) -> None:
    refused(check(h.ole2_doc(), name), MSG_OLD_OFFICE)


# --- PDF ---------------------------------------------------------------------------------------------------


def test_a_password_protected_pdf_is_refused() -> None:
    refused(check(h.encrypted_pdf(), "report.pdf"), MSG_ENCRYPTED)


def test_an_owner_password_only_pdf_is_read() -> None:
    """Encrypted with an empty user password: it opens without one (readers do not ask)."""
    check(h.encrypted_pdf(""), "report.pdf")


def test_a_pdf_of_only_an_image_has_no_text_layer() -> None:
    refused(check(h.image_only_pdf(), "scan.pdf"), MSG_NO_TEXT)


def test_a_pdf_of_thousands_of_pages_is_refused_at_once() -> None:
    refused(check(h.many_pages_pdf(2_000), "report.pdf", seconds=5.0), limits.MSG_TOO_MANY_PAGES)


def test_a_declared_page_count_of_a_billion_is_harmless() -> None:
    result = check(h.declared_pages_pdf(10**9), "report.pdf")
    assert result.status != "failed"  # PDFium counts the pages there are


def test_a_page_of_300000_characters_is_refused() -> None:
    refused(check(h.dense_page_pdf(300_000), "dense.pdf"), limits.MSG_TOO_BIG)


@pytest.mark.parametrize("staggered", [False, True])
def test_a_page_ruled_into_thousands_of_cells_is_answered_in_time(staggered: bool) -> None:
    """pdfplumber pairs every crossing with every other: 22,500 cells took 30 s before the caps."""
    check(h.ruled_grid_pdf(150, staggered), "grid.pdf")


# --- text encodings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("codec", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("gbk", b""),
                                            ("gb18030", b""), ("utf-8", b"\xef\xbb\xbf")])  # fmt: skip
def test_text_in_every_encoding_reads_like_utf8(codec: str, bom: bytes) -> None:
    text = h.text_report()
    expected = check(text.encode("utf-8"), "report.txt")
    got = check(bom + text.encode(codec), "report.txt")
    assert expected.status == "accepted"
    assert (got.status, got.cells, got.agency, got.year) == (expected.status, expected.cells, expected.agency, expected.year)


def test_a_text_file_of_100000_lines_is_refused() -> None:
    line = "一、本年新收政府信息公开申请数量 3001 53 0 0 61 4 3119\n"
    refused(check((line * 100_000).encode(), "long.txt"), limits.MSG_TOO_BIG)


def test_one_enormous_line_is_refused_or_read_in_time() -> None:
    check(("自然人 1 2 3 " * 400_000).encode(), "line.txt")
    check(("自然人 1 2 3 " * 60_000).encode(), "line.txt")


# --- reports whose tables are pictures ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["docx", "html"])
def test_tables_pasted_as_images_give_table_missing(kind: str) -> None:
    data = h.tables_as_images_docx() if kind == "docx" else h.tables_as_images_html()
    result = check(data, f"report.{kind}")
    assert result.status == "returned"
    missing = [f for f in result.findings if f.rule == "TABLE-MISSING"]
    assert len(missing) == 3
    assert all(any(t in f.message for t in ("表二", "表三", "表四")) for f in missing)


# --- truncated files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pdf"])
@pytest.mark.parametrize("keep", [0.02, 0.3, 0.6, 0.9, 0.99])
def test_truncated_files(kind: str, keep: float) -> None:
    data = {"docx": h.docx_report, "xlsx": h.xlsx_report, "pdf": h.pdf_report}[kind]()
    result = check(data[: int(len(data) * keep)], f"report.{kind}")
    if kind != "pdf":  # PDFium may rebuild a cut PDF's cross-reference table and read the pages left
        refused(result, DOCX_CORRUPT if kind == "docx" else XLSX_CORRUPT)


# --- XLSX --------------------------------------------------------------------------------------------------


def test_a_sheet_declaring_the_whole_grid_reads_like_the_report() -> None:
    """``A1:XFD1048576``: openpyxl would pad each row to 16,384 cells and add empty rows to a million."""
    expected = check(h.xlsx_report(), "report.xlsx")
    got = check(h.xlsx_huge_dimension(), "report.xlsx", seconds=5.0)
    assert (got.status, got.cells) == (expected.status, expected.cells)


def test_a_million_empty_rows_are_refused() -> None:
    refused(check(h.xlsx_empty_rows(1_000_000), "report.xlsx"), limits.MSG_ZIP_BOMB)  # compresses 2,000×
    refused(check(h.xlsx_empty_rows(600_000, distinct=True), "report.xlsx"), limits.MSG_TOO_BIG)  # tag budget


def test_empty_rows_up_to_the_tag_budget_are_read_in_time() -> None:
    result = check(h.xlsx_empty_rows(140_000), "report.xlsx")
    assert result.status == "accepted"


def test_a_value_in_the_last_cell_of_the_sheet() -> None:
    check(h.xlsx_far_cell(), "report.xlsx")


def test_rows_cells_and_merges_beyond_excels_grid_are_ignored() -> None:
    """A row numbered a billion: openpyxl yields every missing row before it (50 million took 27 s)."""
    expected = check(h.xlsx_report(), "report.xlsx")
    got = check(h.xlsx_beyond_the_grid(), "report.xlsx", seconds=5.0)
    assert (got.status, got.cells) == (expected.status, expected.cells)


def test_a_value_in_column_xfd_does_not_make_text_rows_16384_cells_wide() -> None:
    """Text rows scanned every grid column: 12,000 rows and one value in XFD took 165 s."""
    refused(check(h.xlsx_wide_block(10_000, table=False), "report.xlsx"), limits.MSG_TOO_BIG)  # too many rows
    assert check(h.xlsx_wide_block(3_000, table=False), "report.xlsx").status == "accepted"


def test_a_table_block_16384_columns_wide_is_refused() -> None:
    """Every position of a table block becomes a cell, so its area is bounded."""
    refused(check(h.xlsx_wide_block(200, table=True), "report.xlsx"), limits.MSG_TOO_BIG)


def test_merging_the_whole_sheet_and_hiding_a_billion_columns() -> None:
    refused(check(h.xlsx_huge_merges(), "report.xlsx"), limits.MSG_TOO_BIG)


# --- DOCX --------------------------------------------------------------------------------------------------


def test_numbering_that_would_render_enormous_labels() -> None:
    check(h.numbering_bomb_docx(20_000), "report.docx")
    check(h.numbering_bomb_docx(2_000), "report.docx")


def test_a_list_level_numbered_a_billion() -> None:
    check(h.deep_level_docx(), "report.docx")


def test_format_number_stays_short() -> None:
    from nianbao.parsing.docx_numbering import format_number

    assert format_number(10**9, "upperLetter") == "1000000000"
    assert format_number(10**18, "lowerRoman") == str(10**18)
    assert format_number(28, "upperLetter") == "BB" and format_number(4, "upperRoman") == "IV"


def test_content_controls_nested_past_libxml2s_limit() -> None:
    refused(check(h.nested_sdt_docx(10_000), "report.docx"), DOCX_CORRUPT)


def test_runs_nested_as_deep_as_libxml2_allows() -> None:
    from nianbao.parsing.docx import read

    assert read(h.deep_runs_docx(250)).rows[0].text == "深"
    refused(check(h.deep_runs_docx(300), "report.docx"), DOCX_CORRUPT)  # past 256 levels: not parsed


def test_layout_tables_nested_80_deep() -> None:
    check(h.nested_tables_docx(80), "report.docx")


@pytest.mark.parametrize(("n", "distinct"), [(900_000, False), (440_000, True), (1_500_000, True)])
def test_hundreds_of_thousands_of_empty_paragraphs(n: int, distinct: bool) -> None:
    check(h.empty_paragraphs_docx(n, distinct), "report.docx")


def test_grid_spans_of_two_billion_columns() -> None:
    check(h.huge_grid_span_docx(), "report.docx")


def test_a_chain_of_990_related_parts_is_walked_without_recursion() -> None:
    """Each part related to the next: the old recursive walk overflowed Python's stack."""
    result = check(h.chained_parts_docx(990), "report.docx")
    assert result.status == "accepted"


# --- regressions found by benchmarks/fuzz.py ---------------------------------------------------------------


def test_a_font_width_range_of_two_billion_codes(tmp_path: Path) -> None:
    """pdfminer (the fallback for pages PDFium drops text from) expanded ``/W [18 2147483647 462]``
    into a dict entry per code: the worker grew past 2.7 GB and was killed."""
    run = h.check_in_subprocess(h.wide_width_range_pdf(), "report.pdf", tmp_path)
    assert run["status"] in ("accepted", "returned")
    assert run["seconds"] < SECONDS
    assert run["rss_mb"] < BOMB_MB, run


def test_pdfminer_width_ranges_are_bounded_and_otherwise_unchanged() -> None:
    from pdfminer import pdffont

    from nianbao.parsing.pdf.miner_limits import install

    install()
    widths = pdffont.get_widths([1, [100, 200], 5, 7, 300, 10, 2147483647, 9, 20, [50], 4.5, "x", 8, 9, 30, 31, 1])
    assert widths == {1: 100, 2: 200, 5: 300, 6: 300, 7: 300, 20: 50, 30: 1, 31: 1}
    vertical = pdffont.get_widths2([3, 4, -1000, 500, 880, 0, 2**40, -1, 2, 3])
    assert vertical == {3: (-1000, (500, 880)), 4: (-1000, (500, 880))}


def test_a_cmap_range_of_four_billion_codes_is_refused_at_once() -> None:
    from io import BytesIO

    from pdfminer.cmapdb import CMapParser, FileUnicodeMap

    from nianbao.parsing.pdf.miner_limits import CMapTooLarge, install

    install()
    start = time.perf_counter()
    with pytest.raises(CMapTooLarge):
        CMapParser(FileUnicodeMap(), BytesIO(b"1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange")).run()
    assert time.perf_counter() - start < 3.0
    cmap = FileUnicodeMap()
    CMapParser(cmap, BytesIO(b"1 beginbfrange <0000> <FFFF> <0000> endbfrange")).run()  # a whole real plane
    assert len(cmap.cid2unichr) == 65_536


def test_a_count_of_19040_digits_is_an_invalid_value() -> None:
    """``int()`` refuses more than 4,300 digits: the reader answered 「内部错误：ValueError」."""
    from nianbao.parsing.numbers import MAX_DIGITS, parse_number

    result = check(h.text_with_long_number(), "report.txt")
    assert result.status == "returned" and result.cells["s3.new.natural"] is None
    assert parse_number("9" * (MAX_DIGITS + 1), "count").value is None
    assert parse_number("9" * 400, "amount").value is None  # inf: no report prints such an amount
    assert parse_number("9" * 40, "count").value == int("9" * 40)


def test_a_style_index_past_a_c_int_is_a_damaged_workbook() -> None:
    """openpyxl raised ``OverflowError`` (answered 「内部错误：OverflowError」)."""
    refused(check(h.xlsx_style_index_overflow(), "report.xlsx"), XLSX_CORRUPT)


def test_control_characters_in_a_dropped_elements_tail() -> None:
    """Answered 「内部错误：ValueError」: lxml refuses to set text with control characters."""
    from nianbao.parsing.html import read

    result = check(h.html_control_characters(), "report.html")
    assert result.status == "accepted"
    assert "前a尾" in [r.text for r in read(h.html_control_characters()).rows]


def test_forms_drawing_forms_are_counted_as_they_are_entered() -> None:
    """10⁵ objects through five levels of forms: refused by the object budget (10⁶ and more are
    expanded by PDFium itself when it loads the page: only the sandbox's limits bound that)."""
    refused(check(h.form_bomb_pdf(5, 10), "forms.pdf"), limits.MSG_TOO_BIG)
    check(h.form_bomb_pdf(2, 10), "forms.pdf")
