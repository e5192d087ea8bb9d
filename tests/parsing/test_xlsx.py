"""XLSX reader: merged ranges as spans, sheets, narrative vs table blocks, numbers without float noise."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Border, Side

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Document
from nianbao.parsing.xlsx import float_text, read, value_text
from tests.helpers.render_formats import (
    Values,
    document_grids,
    grid_cells,
    render_docx,
    render_xlsx,
    report_tables,
)
from tests.helpers.render_text import SECTION_HEADINGS
from tests.helpers.synthetic import make_report

BOX = Border(left=Side(style="thin"), right=Side(style="thin"), top=Side(style="thin"), bottom=Side(style="thin"))


def _texts(doc: Document) -> list[str]:
    return [r.text for r in doc.rows if r.table is None]


def _save(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("layout", ["one_sheet", "sheets"])
def test_synthetic_report(template: str, layout: str) -> None:
    r = make_report(template, seed=5)
    if template == "2021":
        r.cells["s2.fees.amount"] = 4068.208
    blanks = {"s3.total.legal"}
    doc = read(render_xlsx(r, layout, blanks=blanks))
    grids = report_tables(r, Values(r, blanks))
    assert document_grids(doc) == [grid_cells(grids[k]) for k in "二三四"]
    texts = _texts(doc)
    positions = [texts.index(h) for h in SECTION_HEADINGS]
    assert positions == sorted(positions)
    assert r.title in texts and doc.title_hint == r.title
    if layout == "sheets":
        assert [t for t in texts if t.startswith("表")] == ["表二", "表三", "表四"]
    else:
        assert texts[0] == "年度报告"


def test_signed_changes_and_amounts_print_as_typed() -> None:
    r = make_report("2019", seed=5)
    r.cells["s2.licensing.change"] = 3
    r.cells["s2.punishment.change"] = -4
    r.cells["s2.procurement.amount"] = 4068.208
    doc = read(render_xlsx(r))
    rows = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in doc.rows if row.table == 0}
    assert rows["行政许可"][1] == "+3"
    assert rows["行政处罚"][1] == "-4"
    assert rows["政府集中采购"][1] == "4068.208"


@pytest.mark.parametrize(
    ("value", "text"),
    [(12, "12"), (3.0, "3"), (4068.208, "4068.208"), (0.1 + 0.2, "0.3"), (1e-7, "0.0000001"),
     (1e20, "100000000000000000000"), (-2.5, "-2.5"), (0.0, "0"), (True, "TRUE"), (None, "")],
)  # fmt: skip
def test_number_text(value: object, text: str) -> None:
    assert value_text(value) == text


def test_float_text_never_uses_exponents() -> None:
    for v in (1.5e-10, 123456789012345.6, 9.87654321e21):
        assert "e" not in float_text(v).lower()


def test_merged_ranges_become_spans_and_blank_cells_stay() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表三"
    ws["A1"] = "三、收到和处理政府信息公开申请情况"  # a heading without border above the table
    data = [["三、本年度办理结果", "（一）予以公开", None, 5], [None, "（三）不予公开", "1.属于国家秘密", None]]
    for r, row in enumerate(data, start=2):
        for c, v in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=v).border = BOX
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:C2")
    doc = read(_save(wb))
    assert _texts(doc) == ["表三", "三、收到和处理政府信息公开申请情况"]
    rows = [r for r in doc.rows if r.table == 0]
    assert [[(c.text, c.col, c.colspan, c.rowspan) for c in r.cells] for r in rows] == [
        [("三、本年度办理结果", 0, 1, 2), ("（一）予以公开", 1, 2, 1), ("5", 3, 1, 1)],
        [("（三）不予公开", 1, 1, 1), ("1.属于国家秘密", 2, 1, 1), ("", 3, 1, 1)],
    ]
    assert rows[1].inherited[0].text == "三、本年度办理结果"
    assert [r.line for r in rows] == [2, 3]


def test_narrative_sheet_and_multi_line_cells() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "某局2023年政府信息公开工作年度报告"
    ws["A3"] = "一、总体情况\n本年度公开信息。"
    ws["B5"] = "五、存在的主要问题及改进情况"
    table = wb.create_sheet("表四")
    table["A1"], table["B1"] = "结果\n维持", "总计"
    table["A2"], table["B2"] = 1, 1
    doc = read(_save(wb))
    assert _texts(doc) == ["Sheet", "某局2023年政府信息公开工作年度报告", "一、总体情况", "本年度公开信息。",
                           "五、存在的主要问题及改进情况", "表四"]  # fmt: skip
    assert [r.text for r in doc.rows if r.table == 0] == ["结果维持\t总计", "1\t1"]


def test_hidden_rows_columns_and_sheets_are_skipped() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r, row in enumerate([["规章", "旧", 1], ["行政规范性文件", "旧", 2], ["草稿", "x", 9]], start=1):
        for c, v in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=v)
    ws.column_dimensions["B"].hidden = True
    ws.row_dimensions[3].hidden = True
    wb.create_sheet("草稿").sheet_state = "hidden"
    doc = read(_save(wb))
    assert [[(c.text, c.col) for c in r.cells] for r in doc.rows if r.table == 0] == [
        [("规章", 0), ("1", 1)],
        [("行政规范性文件", 0), ("2", 1)],
    ]
    assert "草稿" not in _texts(doc)


def test_formula_cells_read_their_cached_value_or_blank() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["C1"] = "总计", 2, "=B1*2"  # never calculated: no cached value
    for cell in ws[1]:
        cell.border = BOX
    doc = read(_save(wb))
    assert [c.text for c in doc.rows[1].cells] == ["总计", "2", ""]


def test_damaged_and_empty_workbooks_are_refused() -> None:
    for bad in (b"PK\x03\x04" + b"\x00" * 40, render_docx(make_report("2021", seed=1))):
        with pytest.raises(ParseFailed) as info:
            read(bad)
        assert "另存为" in info.value.reason
    with pytest.raises(ParseFailed):
        read(_save(openpyxl.Workbook()))
