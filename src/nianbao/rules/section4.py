"""Table 四's arithmetic: each group's total is the sum of its outcomes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from nianbao.model.report import Report
from nianbao.rules.base import Hit, hit, rule
from nianbao.rules.cells import values, where

if TYPE_CHECKING:
    from nianbao.check import CheckContext

GROUPS = {"review": "行政复议", "suit_direct": "行政诉讼·未经复议直接起诉", "suit_after_review": "行政诉讼·复议后起诉"}
PARTS = ("upheld", "corrected", "other", "pending")


@rule("S4-SUM", severity="error", anchor="s4.<group>.total",
      message="表四“{group}”的“总计”应为{expected}（结果维持、结果纠正、其他结果、尚未审结之和），实为{actual}")
def rule_s4_sum(report: Report, context: CheckContext) -> Iterator[Hit]:
    """For every group: total = upheld + corrected + other + pending."""
    for g, name in GROUPS.items():
        got = values(report, [*(f"s4.{g}.{p}" for p in PARTS), f"s4.{g}.total"])
        if got is None:
            continue
        expected, actual = sum(got[:-1]), got[-1]
        if expected != actual:
            at = f"s4.{g}.total"
            yield hit(at, expected, actual, group=name, location=where(report, at))
