"""Rules on the report as a whole: its year, its template, and what section 六 must say."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from nianbao.model.report import Report
from nianbao.rules.base import Hit, hit, rule

if TYPE_CHECKING:
    from nianbao.check import CheckContext

_NO_NARRATIVE = 30  # characters: less than a sentence (sheet names, a stray caption) is no narrative
_FEE = re.compile(r"处理费|收费|收取[^。；]{0,12}费")


@rule("YEAR-MISMATCH", severity="warning", anchor="meta.year",
      message="报告年度不一致：{what}应为{expected}，实为{actual}")
def rule_year_mismatch(report: Report, context: CheckContext) -> Iterator[Hit]:
    """The title year, the statistics period (Y-01-01 to Y-12-31) and the declared year disagree."""
    meta = report.meta
    year = meta.title_year or context.declared_year
    if context.declared_year and meta.title_year and context.declared_year != meta.title_year:
        yield hit("meta.year", context.declared_year, meta.title_year, what="标题中的年份（上传时申报的年度）",
                  location="报告标题")
    if meta.period_start and meta.period_end:
        y = year or int(meta.period_start[:4])
        want = (f"{y}-01-01", f"{y}-12-31")
        if (meta.period_start, meta.period_end) != want:
            yield hit("meta.year", f"{y}年1月1日至{y}年12月31日", meta.period_text or "",
                      what="数据统计期限", location="统计期限说明")


@rule("TEMPLATE-OUTDATED", severity="warning", anchor="meta.template",
      message="{year}年度报告应使用国办公开办函〔2021〕30号印发的新格式，实为2019年试行格式")
def rule_template_outdated(report: Report, context: CheckContext) -> Iterator[Hit]:
    """The 2019 trial format is used for report year 2021 or later."""
    year = report.meta.year or context.declared_year
    if report.template == "2019" and year is not None and year >= 2021:
        yield hit("meta.template", "2021", "2019", year=year, location="表二表头")


@rule("FEE-NOT-REPORTED", severity="warning", anchor="sec6",
      message="请在“六、其他需要报告的事项”中说明信息处理费收取情况（依据《政府信息公开信息处理费管理办法》）")
def rule_fee_not_reported(report: Report, context: CheckContext) -> Iterator[Hit]:
    """Report year 2021 or later and section 六 says nothing about 信息处理费."""
    year = report.meta.year or context.declared_year
    if year is None or year < 2021:
        return
    text = report.sections.get("sec6")
    if text is None:  # no section 六: any mention anywhere will do
        text = "\n".join([report.preamble, *report.sections.values()])
        if len("".join(text.split())) < _NO_NARRATIVE:
            return  # a file of tables only (a workbook): SECTION-MISSING says what could not be checked
    if not _FEE.search(text):
        yield hit("sec6", location="六、其他需要报告的事项")
