"""Table 二: what the definitions of its columns imply."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from nianbao.model.report import Report
from nianbao.rules.base import Hit, hit, rule
from nianbao.rules.cells import row_label, values, where

if TYPE_CHECKING:
    from nianbao.check import CheckContext


@rule("S2-IN-FORCE-LOW", severity="warning", anchor="s2.<row>.in_force",
      message="表二“{row}”的现行有效件数({actual})少于本年制发件数减本年废止件数({expected})，请核对")
def rule_s2_in_force_low(report: Report, context: CheckContext) -> Iterator[Hit]:
    """2021 format: 现行有效件数 < 本年制发件数 − 本年废止件数."""
    if report.layouts.get("s2") != "2021":
        return
    for row in ("regulations", "normative_documents"):
        got = values(report, [f"s2.{row}.issued", f"s2.{row}.repealed", f"s2.{row}.in_force"])
        if got is None:
            continue
        issued, repealed, in_force = got
        if in_force < issued - repealed:
            at = f"s2.{row}.in_force"
            yield hit(at, issued - repealed, in_force, row=row_label(at), location=where(report, at))
