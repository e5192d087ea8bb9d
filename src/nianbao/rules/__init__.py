"""The rule catalog. Importing this package registers every rule.

``run_rules`` runs them in catalog order; findings come out in that order, each rule's in the
order of the cells it checks.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from nianbao.rules.base import REGISTRY, Rule, RuleSpec, resolve

if TYPE_CHECKING:
    from nianbao.check import CheckContext
    from nianbao.model.report import Finding, Report

# Importing a rule module registers its rules; this order is the order findings come out in.
_MODULES = ("structure", "section2", "section3", "section4", "meta", "narrative", "context")
for _name in _MODULES:
    import_module(f"nianbao.rules.{_name}")

__all__ = ["REGISTRY", "Rule", "RuleSpec", "parse_failed", "resolve", "run_rules"]


def run_rules(report: Report, context: CheckContext) -> list[Finding]:
    """Every finding of every registered rule for one report."""
    findings: list[Finding] = []
    for r in REGISTRY.values():
        findings.extend(r.run(report, context))
    return findings


def parse_failed(reason: str) -> Finding:
    """The finding for a file that cannot be read as a report."""
    return REGISTRY["PARSE-FAILED"].spec.finding("file", reason=reason)
