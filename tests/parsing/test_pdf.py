"""PDF reader: ruled tables as printed grids, tables across pages, page furniture, refusals, the real PDFs.

Synthetic PDFs are written by reportlab with its built-in CID font STSong-Light (no font file). That
font is not embedded, and PDFium (which has no CJK font on this machine) drops every one-character
line written in it; the reader notices and reads those pages with pdfminer instead — the tests
below would lose 「业」 of 「商业企业」 otherwise.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Document, Row
from nianbao.parsing.pdf import MSG_ENCRYPTED, MSG_NO_TEXT, read
from tests.helpers.render_formats import Values, document_grids, grid_cells, render_pdf, report_tables
from tests.helpers.render_text import SECTION_HEADINGS
from tests.helpers.synthetic import SyntheticReport, make_report

HUAIAN = "govnianbao_szfgs2024.pdf"
HZQ2023 = "KIROGOVCOMPARE_hzq2023_working.pdf"
HZQ2024 = "KIROGOVCOMPARE_hzq2024_working.pdf"


def _texts(doc: Document) -> list[str]:
    return [r.text for r in doc.rows if r.table is None]


def _table(doc: Document, index: int) -> list[Row]:
    return [r for r in doc.rows if r.table == index]


def _row(doc: Document, table: int, label: str) -> Row:
    return next(r for r in _table(doc, table) if r.cells and r.cells[0].text == label)


def _values(row: Row) -> list[str]:
    return [c.text for c in row.cells[1:]]


def _strs(*values: int) -> list[str]:
    return [str(v) for v in values]


def _assert_report(doc: Document, r: SyntheticReport, values: Values) -> None:
    grids = report_tables(r, values)
    assert document_grids(doc) == [grid_cells(grids[k]) for k in "二三四"]
    texts = _texts(doc)
    assert texts[0] == r.title
    positions = [texts.index(h) for h in SECTION_HEADINGS]
    assert positions == sorted(positions)
    assert f"本报告所列数据统计期限为{r.year}年1月1日至{r.year}年12月31日。" in texts


@pytest.fixture(scope="module")
def report() -> SyntheticReport:
    r = make_report("2021", seed=1)
    r.cells["s2.fees.amount"] = 4068.208
    return r


# --- synthetic reports -------------------------------------------------------------------------------


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_synthetic_report_grids(template: str) -> None:
    r = make_report(template, seed=9)
    doc = read(render_pdf(r))
    assert doc.source_format == "pdf" and doc.title_hint == r.title
    _assert_report(doc, r, Values(r))


def test_chinese_text_of_the_cid_font_is_extracted(report: SyntheticReport) -> None:
    doc = read(render_pdf(report))
    header = _table(doc, 1)[2]
    assert [c.text for c in header.cells] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert _values(_row(doc, 0, "行政事业性收费")) == ["4068.208"]


def test_wrapped_and_vertical_labels_are_joined(report: SyntheticReport) -> None:
    rows = _table(read(render_pdf(report)), 1)
    outcome = rows[5].cells[0]  # printed one character per line in a narrow column
    assert (outcome.text, outcome.col, outcome.rowspan) == ("三、本年度办理结果", 0, 22)
    labels = [c.text for r in rows for c in r.cells]
    assert "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请" in labels  # two lines
    assert "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）" in labels


@pytest.mark.parametrize("repeat_header", [False, True])
def test_table_three_across_a_page_break(report: SyntheticReport, repeat_header: bool) -> None:
    doc = read(render_pdf(report, break_table3_at=14, repeat_header=repeat_header))
    _assert_report(doc, report, Values(report))
    rows = _table(doc, 1)
    pages = [r.page for r in rows]
    assert pages[13] < pages[14] and len(set(pages)) == 2
    continued = rows[14]  # 8.属于行政查询事项: first row on the new page, inside two rowspans
    assert [c.text for c in continued.inherited] == ["三、本年度办理结果", "（三）不予公开"]


@pytest.mark.parametrize("at", [16, 20])
def test_labels_cut_by_the_page_break_are_mended(report: SyntheticReport, at: int) -> None:
    doc = read(render_pdf(report, break_table3_at=at, split_labels=True))
    _assert_report(doc, report, Values(report))  # e.g. （四）无法 + 提供 → one cell, rowspan 3


def test_a_break_between_groups_does_not_merge_them(report: SyntheticReport) -> None:
    doc = read(render_pdf(report, break_table3_at=18))
    _assert_report(doc, report, Values(report))
    rows = _table(doc, 1)
    assert (rows[18].cells[0].text, rows[18].cells[0].rowspan) == ("（五）不予处理", 5)


def test_a_different_table_at_the_top_of_the_next_page_is_not_a_continuation(report: SyntheticReport) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    from tests.helpers.render_formats import pdf_styles, pdf_table

    styles = pdf_styles(8)
    grids = report_tables(report, Values(report))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build([pdf_table(grids["三"], styles, 8), PageBreak(), pdf_table(grids["四"], styles, 8)])
    doc = read(buf.getvalue())
    assert document_grids(doc) == [grid_cells(grids["三"]), grid_cells(grids["四"])]


def test_blank_cells_stay_blank() -> None:
    r = make_report("2021", seed=2)
    values = Values(r, blank_zeros=True)
    doc = read(render_pdf(r, blank_zeros=True))
    _assert_report(doc, r, values)
    assert "" in [c.text for row in _table(doc, 1) for c in row.cells]


def test_page_numbers_are_dropped(report: SyntheticReport) -> None:
    doc = read(render_pdf(report, break_table3_at=14))
    assert not [t for t in _texts(doc) if t.strip("- ").isdigit()]
    assert max(r.page or 0 for r in doc.rows) >= 2


def test_lineless_table_uses_the_text_strategy() -> None:
    from reportlab.pdfgen import canvas

    from tests.helpers.render_formats import PDF_FONT, pdf_styles

    pdf_styles(8)  # registers the CID font
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont(PDF_FONT, 10)
    c.drawString(72, 780, "四、政府信息公开行政复议、行政诉讼情况")
    rows = [["行政复议", "维持", "纠正", "其他", "总计"], ["甲类", "1", "2", "3", "6"], ["乙类", "4", "5", "6", "15"],
            ["丙类", "7", "8", "9", "24"], ["丁类", "10", "11", "12", "33"]]  # fmt: skip
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            c.drawString(72 + j * 80, 740 - i * 20, text)
    c.drawString(72, 600, "五、存在的主要问题及改进情况")
    c.save()
    doc = read(buf.getvalue())
    assert [[(cell.text, cell.col) for cell in r.cells] for r in _table(doc, 0)] == [
        [(text, k) for k, text in enumerate(row)] for row in rows
    ]
    assert _texts(doc) == ["四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况"]


# --- refusals ----------------------------------------------------------------------------------------


def test_scanned_pdf_without_text_layer() -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(Image.new("L", (200, 280), 200)), 50, 50, 400, 560)
    c.showPage()
    c.save()
    with pytest.raises(ParseFailed) as info:
        read(buf.getvalue())
    assert info.value.reason == MSG_NO_TEXT


def _encrypted(user_password: str) -> bytes:
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=StandardEncryption(user_password, "owner-secret"))
    c.setFont("Helvetica", 12)
    c.drawString(72, 720, "Annual report 2023: requests received 21, processed 21.")
    c.save()
    return buf.getvalue()


def test_password_protected_pdf() -> None:
    with pytest.raises(ParseFailed) as info:
        read(_encrypted("user-secret"))
    assert info.value.reason == MSG_ENCRYPTED
    assert "加密" in info.value.reason and "未加密" in info.value.reason


def test_pdf_with_only_an_owner_password_is_read() -> None:
    assert "requests received 21" in " ".join(_texts(read(_encrypted(""))))


def test_damaged_pdf() -> None:
    with pytest.raises(ParseFailed) as info:
        read(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF")
    assert "PDF" in info.value.reason


# --- the real PDFs (facts checked against the rendered pages) ---------------------------------------


@pytest.fixture(scope="module")
def huaian(real_corpus: Path) -> Document:
    return read((real_corpus / HUAIAN).read_bytes())


def test_huaian_table_three(huaian: Document) -> None:
    rows = _table(huaian, 1)
    assert len(rows) == 28
    assert _values(_row(huaian, 1, "一、本年新收政府信息公开申请数量")) == ["3001", "53", "0", "0", "61", "4", "3119"]
    assert _values(_row(huaian, 1, "二、上年结转政府信息公开申请数量")) == ["34", "0", "0", "0", "0", "0", "34"]
    assert [c.text for c in rows[5].cells] == ["三、本年度办理结果", "（一）予以公开", "1288", "21", "0", "0", "50", "3", "1362"]
    assert rows[5].cells[0].rowspan == 22
    total = next(r for r in rows if r.cells[0].text == "（七）总计")
    assert [c.text for c in total.cells[1:]] == ["2932", "53", "0", "0", "61", "4", "3050"]
    assert _values(_row(huaian, 1, "四、结转下年度继续办理")) == ["103", "0", "0", "0", "0", "0", "103"]


def test_huaian_label_split_over_pages_is_one_cell(huaian: Document) -> None:
    rows = _table(huaian, 1)
    group = next(r for r in rows if r.cells[0].text == "（四）无法提供")
    assert (group.cells[0].col, group.cells[0].rowspan, group.page) == (1, 3, 4)
    assert [c.text for c in group.cells[1:]] == ["1.本机关不掌握相关政府信息", "746", "12", "0", "0", "10", "1", "769"]
    nxt = rows[rows.index(group) + 1]
    assert nxt.page == 5
    assert [(c.text, c.col) for c in nxt.cells[:2]] == [("2.没有现成信息需要另行制作", 2), ("11", 3)]
    assert [c.text for c in nxt.inherited] == ["三、本年度办理结果", "（四）无法提供"]


def test_huaian_tables_two_and_four(huaian: Document) -> None:
    assert {r.page for r in _table(huaian, 0)} == {3, 4}
    assert _values(_row(huaian, 0, "行政许可")) == ["447228"]
    assert _values(_row(huaian, 0, "行政处罚")) == ["3985758"]
    assert _values(_row(huaian, 0, "行政事业性收费")) == ["96171.6"]
    assert _values(_row(huaian, 0, "行政规范性文件")) == ["8", "26", "66"]
    s4 = _table(huaian, 2)
    assert [c.text for c in s4[3].cells] == _strs(72, 64, 178, 37, 351, 13, 4, 8, 1, 26, 12, 1, 1, 6, 20)
    assert [(c.text, c.colspan) for c in s4[0].cells] == [("行政复议", 5), ("行政诉讼", 10)]


def test_huaian_running_text(huaian: Document) -> None:
    texts = _texts(huaian)
    assert texts[:2] == ["淮安市人民政府", "2024年政府信息公开工作年度报告"]
    assert any("统计期限自2024年1月1日至2024年12月31日" in t for t in texts)
    assert not [t for t in texts if t.replace(" ", "").strip("-") in {str(n) for n in range(1, 7)}]
    assert huaian.title_hint is None  # the metadata title lacks agency and year


def test_hzq2023_mixed_layout_and_published_sum_error(real_corpus: Path) -> None:
    doc = read((real_corpus / HZQ2023).read_bytes())
    rows = _table(doc, 1)
    assert rows[5].cells[0].text == "三、本年度办理结果" and rows[5].cells[0].rowspan == 20
    other = _row(doc, 1, "（六）其他处理")  # the trial layout's single row, over two label columns
    assert (other.cells[0].col, other.cells[0].colspan) == (1, 2)
    assert _values(_row(doc, 1, "一、本年新收政府信息公开申请数量")) == ["21", "0", "0", "0", "0", "0", "21"]
    assert [c.text for c in _table(doc, 2)[3].cells] == _strs(10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0)
    assert _values(_row(doc, 0, "行政规范性文件")) == ["0", "5", "5"]


def test_hzq2024(real_corpus: Path) -> None:
    doc = read((real_corpus / HZQ2024).read_bytes())
    assert _values(_row(doc, 1, "一、本年新收政府信息公开申请数量")) == ["95", "0", "0", "0", "0", "0", "95"]
    group = _row(doc, 1, "（四）无法提供")
    assert group.cells[0].rowspan == 3 and group.page == 3
    other = _row(doc, 1, "（六）其他处理")  # printed with a rule between the two label columns
    assert [(c.text, c.col) for c in other.cells[:2]] == [("（六）其他处理", 1), ("", 2)]
    s4 = _table(doc, 2)
    assert [c.text for c in s4[3].cells] == _strs(1, 1, 0, 0, 2, 1, 0, 0, 0, 1, 2, 0, 1, 0, 3)
    assert [(c.text, c.col, c.colspan) for c in s4[0].cells] == [("行政复议", 0, 5), ("", 5, 3), ("行政诉讼", 8, 7)]
