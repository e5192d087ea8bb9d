"""Faulty copies of consistent reports, with the findings a correct checker must report.

:func:`expected_arithmetic_findings` is a test oracle written from ``rules.md`` alone and kept
deliberately apart from the product's rule code: it recomputes every instance of the four
arithmetic rules over a cell dict and returns one ``(rule, at, expected, actual)`` tuple per
broken instance. The ``break_*`` functions change cells of a report and ask the oracle for the
resulting findings, so a fault that breaks several rules at once (a wrong 总计 breaks
``S3-ROW-SUM`` and the column rules through it) is described completely, never by hand.

Conventions (``rules.md``):

- ``S3-ROW-SUM`` at ``s3.<row>.total``: expected = natural+commercial+research+nonprofit+legal+
  other_org, actual = the printed total; for each of the 23 (2019) / 25 (2021) rows.
- ``S3-OUTCOME-SUM`` at ``s3.total.<col>``: expected = sum of all outcome rows (一)…(六),
  actual = (七)总计; for each of the 7 columns.
- ``S3-BALANCE`` at ``s3.new.<col>``: expected = new + carried_over, actual = total +
  carried_forward; for each of the 7 columns.
- ``S4-SUM`` at ``s4.<group>.total``: expected = upheld+corrected+other+pending, actual = total.

A cell missing from the dict is blank and counts as 0; a cell whose value is ``None`` (present
but invalid, reported as ``CELL-INVALID``) makes every arithmetic instance it takes part in
uncheckable, and the oracle reports nothing for those instances.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from tests.helpers.synthetic import SyntheticReport

Finding = tuple[str, str, int | float, int | float]
"""``(rule, at, expected, actual)``."""
Cells = Mapping[str, int | float | None]

C6 = ("natural", "commercial", "research", "nonprofit", "legal", "other_org")
C7 = (*C6, "total")
S4_GROUPS = ("review", "suit_direct", "suit_after_review")
S4_PARTS = ("upheld", "corrected", "other", "pending")

_OUTCOMES_COMMON = (
    "granted",
    "partial",
    "denied.state_secret",
    "denied.prohibited_by_law",
    "denied.security_stability",
    "denied.third_party",
    "denied.internal_affairs",
    "denied.process_info",
    "denied.enforcement_file",
    "denied.admin_query",
    "unavailable.not_held",
    "unavailable.needs_creation",
    "unavailable.unclear",
    "rejected.petition",
    "rejected.duplicate",
    "rejected.publication",
    "rejected.excessive",
    "rejected.confirmation",
)
OUTCOME_ROWS = {
    "2019": (*_OUTCOMES_COMMON, "other"),
    "2021": (*_OUTCOMES_COMMON, "other.no_correction", "other.no_fee", "other.other"),
}
"""The outcome rows (一)…(六) of table 三 per template (format.md §5)."""


def s3_row_keys(template: str) -> tuple[str, ...]:
    """Every row of table 三 that has a row total: 23 (2019) or 25 (2021)."""
    return ("new", "carried_over", *OUTCOME_ROWS[template], "total", "carried_forward")


def _sum(values: list[int | float | None]) -> int | float | None:
    """The sum, or None when a term is invalid."""
    if any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def expected_arithmetic_findings(cells: Cells, template: str) -> set[Finding]:
    """Every broken instance of S3-ROW-SUM, S3-OUTCOME-SUM, S3-BALANCE and S4-SUM."""
    if template not in OUTCOME_ROWS:
        raise ValueError(f"unknown template {template!r}")

    def v(cell_id: str) -> int | float | None:
        return cells.get(cell_id, 0)

    found: set[Finding] = set()

    def check(rule: str, at: str, expected: int | float | None, actual: int | float | None) -> None:
        if expected is not None and actual is not None and expected != actual:
            found.add((rule, at, expected, actual))

    for row in s3_row_keys(template):
        check("S3-ROW-SUM", f"s3.{row}.total", _sum([v(f"s3.{row}.{c}") for c in C6]), v(f"s3.{row}.total"))
    for col in C7:
        outcomes = _sum([v(f"s3.{row}.{col}") for row in OUTCOME_ROWS[template]])
        check("S3-OUTCOME-SUM", f"s3.total.{col}", outcomes, v(f"s3.total.{col}"))
        left = _sum([v(f"s3.new.{col}"), v(f"s3.carried_over.{col}")])
        right = _sum([v(f"s3.total.{col}"), v(f"s3.carried_forward.{col}")])
        check("S3-BALANCE", f"s3.new.{col}", left, right)
    for g in S4_GROUPS:
        check("S4-SUM", f"s4.{g}.total", _sum([v(f"s4.{g}.{p}") for p in S4_PARTS]), v(f"s4.{g}.total"))
    return found


def with_cells(r: SyntheticReport, changes: Mapping[str, int | float]) -> SyntheticReport:
    """A copy of ``r`` with some cells changed (the original is left alone)."""
    unknown = [c for c in changes if c not in r.cells]
    if unknown:
        raise KeyError(f"not cells of this report: {unknown}")
    return replace(r, cells={**r.cells, **changes}, sections=dict(r.sections))


def break_cells(r: SyntheticReport, changes: Mapping[str, int | float]) -> tuple[SyntheticReport, set[Finding]]:
    """Change several cells; the faulty copy and all arithmetic findings it must raise."""
    faulty = with_cells(r, changes)
    return faulty, expected_arithmetic_findings(faulty.cells, faulty.template)


def break_cell(r: SyntheticReport, cell_id: str, value: int | float) -> tuple[SyntheticReport, set[Finding]]:
    """Set one cell to ``value``; the faulty copy and all arithmetic findings it must raise.

    A cell of table 二 takes part in no arithmetic rule, so changing one gives no finding here.
    A negative value would in addition be ``CELL-INVALID``, which this oracle does not cover.
    """
    return break_cells(r, {cell_id: value})


def break_row_total(r: SyntheticReport, row: str, delta: int = 1) -> tuple[SyntheticReport, set[Finding]]:
    """Misprint the 总计 of one table-三 row (``new``, ``denied.state_secret``, ``total`` …).

    Besides S3-ROW-SUM at ``s3.<row>.total`` this breaks S3-OUTCOME-SUM at ``s3.total.total``
    when ``row`` is an outcome row or ``total``, and S3-BALANCE at ``s3.new.total`` when ``row``
    is ``new``, ``carried_over``, ``total`` or ``carried_forward``; all come from the oracle.
    """
    if row not in s3_row_keys(r.template):
        raise KeyError(f"no row {row!r} in table 三 of template {r.template}")
    if delta == 0:
        raise ValueError("delta must not be 0")
    cell = f"s3.{row}.total"
    new_value = r.cells[cell] + delta
    if new_value < 0:
        new_value = r.cells[cell] + abs(delta)
    return break_cell(r, cell, new_value)


def break_outcome_sum(
    r: SyntheticReport, col: str, row: str = "granted", delta: int = 1
) -> tuple[SyntheticReport, set[Finding]]:
    """Raise one outcome cell and its row total together, so only the (七)总计 checks break.

    The row stays consistent; S3-OUTCOME-SUM breaks at ``s3.total.<col>`` and (for a column of
    C6) at ``s3.total.total``.
    """
    if row not in OUTCOME_ROWS[r.template]:
        raise KeyError(f"{row!r} is not an outcome row of template {r.template}")
    if delta <= 0:
        raise ValueError("delta must be positive (cells stay non-negative)")
    changes = {f"s3.{row}.{col}": r.cells[f"s3.{row}.{col}"] + delta}
    if col != "total":
        changes[f"s3.{row}.total"] = r.cells[f"s3.{row}.total"] + delta
    return break_cells(r, changes)


def break_balance(r: SyntheticReport, col: str, delta: int = 1) -> tuple[SyntheticReport, set[Finding]]:
    """Raise 本年新收 in one column and its row total, so only the 勾稽关系 breaks.

    S3-BALANCE breaks at ``s3.new.<col>`` and (for a column of C6) at ``s3.new.total``.
    """
    if delta <= 0:
        raise ValueError("delta must be positive (cells stay non-negative)")
    changes = {f"s3.new.{col}": r.cells[f"s3.new.{col}"] + delta}
    if col != "total":
        changes["s3.new.total"] = r.cells["s3.new.total"] + delta
    return break_cells(r, changes)


def break_s4_total(r: SyntheticReport, group: str, delta: int = 1) -> tuple[SyntheticReport, set[Finding]]:
    """Misprint the 总计 of one group of table 四: S4-SUM at ``s4.<group>.total``."""
    if group not in S4_GROUPS:
        raise KeyError(f"no group {group!r} in table 四")
    if delta <= 0:
        raise ValueError("delta must be positive (cells stay non-negative)")
    return break_cell(r, f"s4.{group}.total", r.cells[f"s4.{group}.total"] + delta)
