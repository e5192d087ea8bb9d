"""Rules about what the file holds at all: readable cells, present rows, tables and sections."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from nianbao.model.cells import catalog
from nianbao.model.report import SECTION_IDS, SECTION_TITLES, TABLE_TITLES, Report
from nianbao.rules.base import Hit, hit, rule
from nianbao.rules.cells import where

if TYPE_CHECKING:
    from nianbao.check import CheckContext

_KIND = {"count": "非负整数", "signed_count": "带符号整数（如 +3、-2、0）", "amount": "非负数（可保留小数）"}


@rule("PARSE-FAILED", severity="error", anchor="file", message="文件无法作为年度报告读取：{reason}")
def rule_parse_failed(report: Report, context: CheckContext) -> Iterator[Hit]:
    """The file cannot be read as a report (unsupported, corrupt, encrypted, empty, scanned)."""
    return iter(())


@rule("TABLE-MISSING", severity="error", anchor="s2|s3|s4",
      message="未找到{title}：表格缺失或仅为图片，请按统一格式以表格形式填报")
def rule_table_missing(report: Report, context: CheckContext) -> Iterator[Hit]:
    """A section's table cannot be found at all (absent, or only an image)."""
    for table, title in TABLE_TITLES.items():
        if table not in report.tables:
            yield hit(table, title=title, location=title)


@rule("CELL-MISSING", severity="error", anchor="<cell>",
      message="{place}缺失或无法识别，请按统一格式填写该栏（无数据填“0”）")
def rule_cell_missing(report: Report, context: CheckContext) -> Iterator[Hit]:
    """A table is present but a row or column of the report's template is absent."""
    for cid in report.missing:
        yield hit(cid, place=where(report, cid, exact=False), location=where(report, cid))


@rule("CELL-INVALID", severity="error", anchor="<cell>",
      message="{place}填写的“{actual}”不是有效数值，应为{kind}")
def rule_cell_invalid(report: Report, context: CheckContext) -> Iterator[Hit]:
    """A cell's text is not a valid value of its kind (letters, signs in a count, two numbers...)."""
    specs = catalog()
    for cid, cell in report.cells.items():
        if cell.value is None:
            yield hit(cid, None, cell.raw, place=where(report, cid, exact=False), kind=_KIND[specs[cid].kind],
                      location=where(report, cid))


@rule("SECTION-MISSING", severity="warning", anchor="sec1..sec6",
      message="报告缺少“{title}”部分（或其标题无法识别），年度报告应包含统一格式规定的六个部分")
def rule_section_missing(report: Report, context: CheckContext) -> Iterator[Hit]:
    """One of the six numbered sections is absent."""
    for sec in SECTION_IDS:
        if sec not in report.sections:
            yield hit(sec, title=SECTION_TITLES[sec], location=SECTION_TITLES[sec])
