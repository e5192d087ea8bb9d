"""Table 三's arithmetic: row totals, the outcome total, and the printed 勾稽关系."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

from nianbao.model.cells import template_cells
from nianbao.model.report import Report
from nianbao.rules.base import Hit, hit, rule
from nianbao.rules.cells import col_label, row_label, values, where

if TYPE_CHECKING:
    from nianbao.check import CheckContext

PARTS = ("natural", "commercial", "research", "nonprofit", "legal", "other_org")
COLS = (*PARTS, "total")
_EDGE_ROWS = ("new", "carried_over", "total", "carried_forward")


@cache
def _rows(layout: str) -> tuple[str, ...]:
    return tuple(c.row for c in template_cells(layout) if c.table == "s3" and c.col == "natural")


def rows_of(report: Report) -> tuple[str, ...]:
    """Row keys of table 三 in the layout the report's table was read with, in printed order."""
    return _rows(report.layouts.get("s3") or report.template or "2021")


def outcome_rows(report: Report) -> list[str]:
    return [r for r in rows_of(report) if r not in _EDGE_ROWS]


@rule("S3-ROW-SUM", severity="error", anchor="s3.<row>.total",
      message="表三“{row}”行的“总计”应为{expected}（自然人与五类法人或其他组织之和），实为{actual}")
def rule_s3_row_sum(report: Report, context: CheckContext) -> Iterator[Hit]:
    """For every section 三 row: total = natural + commercial + research + nonprofit + legal + other_org."""
    for row in rows_of(report):
        got = values(report, [f"s3.{row}.{c}" for c in COLS])
        if got is None:
            continue
        expected, actual = sum(got[:-1]), got[-1]
        if expected != actual:
            at = f"s3.{row}.total"
            yield hit(at, expected, actual, row=row_label(at), location=where(report, at))


@rule("S3-OUTCOME-SUM", severity="error", anchor="s3.total.<col>",
      message="表三“（七）总计”行“{col}”列应为{expected}（（一）至（六）项之和），实为{actual}")
def rule_s3_outcome_sum(report: Report, context: CheckContext) -> Iterator[Hit]:
    """For every column: (七)总计 = sum of all outcome rows (一)…(六)."""
    outcomes = outcome_rows(report)
    for col in COLS:
        got = values(report, [*(f"s3.{r}.{col}" for r in outcomes), f"s3.total.{col}"])
        if got is None:
            continue
        expected, actual = sum(got[:-1]), got[-1]
        if expected != actual:
            at = f"s3.total.{col}"
            yield hit(at, expected, actual, col=col_label(at), location=where(report, at))


@rule("S3-BALANCE", severity="error", anchor="s3.new.<col>",
      message="表三“{col}”列不符合勾稽关系：本年新收({new})+上年结转({cin})={expected}，"
              "应等于本年度办理结果总计({total})+结转下年度({cout})={actual}")
def rule_s3_balance(report: Report, context: CheckContext) -> Iterator[Hit]:
    """For every column: new + carried_over = total + carried_forward (the 勾稽关系 printed on the table)."""
    for col in COLS:
        got = values(report, [f"s3.{r}.{col}" for r in _EDGE_ROWS])
        if got is None:
            continue
        new, cin, total, cout = got
        if new + cin != total + cout:
            at = f"s3.new.{col}"
            yield hit(at, new + cin, total + cout, col=col_label(at), new=new, cin=cin, total=total, cout=cout,
                      location=where(report, at))
