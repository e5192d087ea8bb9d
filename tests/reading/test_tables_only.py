"""A workbook holding only the three tables: every cell is read, and the text rules say what they
could not check (SECTION-MISSING warnings) instead of failing the report."""

from __future__ import annotations

import io

from nianbao.check import check_bytes
from tests.helpers import render_formats as rf
from tests.helpers.render_text import expected_cells
from tests.helpers.synthetic import make_report


def _tables_only_workbook(template: str, title: str | None) -> tuple[bytes, dict[str, int | float]]:
    import openpyxl

    r = make_report(template, seed=31, agency="北湖区财政局", year=2023 if template == "2021" else 2020)
    values = rf.Values(r, (), False)
    wb = openpyxl.Workbook()
    first = True
    for name, grid in rf.report_tables(r, values).items():
        ws = wb.active if first else wb.create_sheet()
        ws.title = f"表{name}"
        first = False
        rf._xlsx_table(ws, grid, 1)
    if title:
        wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), expected_cells(r)


def test_tables_only_workbook_is_read_and_accepted() -> None:
    data, cells = _tables_only_workbook("2021", "北湖区财政局2023年政府信息公开工作年度报告")
    _, result = check_bytes(data, "tables.xlsx")
    assert result.cells == cells
    assert (result.agency, result.year, result.template) == ("北湖区财政局", 2023, "2021")
    assert result.status == "accepted"
    assert sorted(f.rule for f in result.findings) == ["SECTION-MISSING"] * 6
    assert all(f.severity == "warning" for f in result.findings)


def test_tables_only_workbook_without_a_title_still_knows_its_template() -> None:
    data, cells = _tables_only_workbook("2019", None)
    _, result = check_bytes(data, "tables.xlsx")
    assert result.cells == cells
    assert result.template == "2019"
    assert result.status == "accepted"
