"""The rule registry: each rule id is declared once, next to its severity, anchor and message.

A rule is a generator function ``(report, context) -> Iterable[Finding]`` decorated with
:func:`rule`. The first line of its docstring is the catalog summary. Findings are data; the
Chinese message is rendered from the rule's template in :meth:`RuleSpec.finding`, the one place
messages are made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nianbao.model.report import Finding, Severity

if TYPE_CHECKING:
    from nianbao.check import CheckContext
    from nianbao.model.report import Report

RuleFn = Callable[["Report", "CheckContext"], Iterable["Hit"]]


@dataclass(slots=True)
class Hit:
    """What a rule function yields: one broken instance, before its message is rendered."""

    at: str
    expected: Any = None
    actual: Any = None
    location: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


def hit(at: str, expected: Any = None, actual: Any = None, *, location: str | None = None, **args: Any) -> Hit:
    """One broken rule instance anchored at ``at``; ``args`` fill the rule's message template."""
    return Hit(at, expected, actual, location, args)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule's published identity."""

    id: str
    severity: Severity
    anchor: str
    message: str
    """A ``str.format`` template; fields: ``expected``, ``actual`` and the rule's own args."""
    summary: str = ""
    needs_context: bool = False
    """True for rules that need more than the file (registry, upload, warehouse)."""
    aliases: tuple[str, ...] = field(default=())

    def finding(
        self,
        at: str,
        expected: Any = None,
        actual: Any = None,
        *,
        location: str | None = None,
        **args: Any,
    ) -> Finding:
        """A finding of this rule, its message rendered from the template."""
        message = self.message.format(expected=_fmt(expected), actual=_fmt(actual), **args)
        return Finding(
            rule=self.id,
            severity=self.severity,
            at=at,
            expected=expected,
            actual=actual,
            message=message,
            location=location,
        )


@dataclass(frozen=True, slots=True)
class Rule:
    spec: RuleSpec
    fn: RuleFn

    def run(self, report: Report, context: CheckContext) -> list[Finding]:
        """This rule's findings for one report."""
        return [
            self.spec.finding(h.at, h.expected, h.actual, location=h.location, **h.args)
            for h in self.fn(report, context)
        ]


REGISTRY: dict[str, Rule] = {}
ALIASES: dict[str, str] = {}


def rule(
    rule_id: str,
    *,
    severity: Severity,
    anchor: str,
    message: str,
    needs_context: bool = False,
    aliases: tuple[str, ...] = (),
) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under a stable id."""

    def register(fn: RuleFn) -> RuleFn:
        if rule_id in REGISTRY or rule_id in ALIASES:
            raise ValueError(f"rule id {rule_id} declared twice")
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        spec = RuleSpec(rule_id, severity, anchor, message, summary, needs_context, aliases)
        REGISTRY[rule_id] = Rule(spec, fn)
        for alias in aliases:
            ALIASES[alias] = rule_id
        return fn

    return register


def resolve(rule_id: str) -> Rule:
    """A rule by id or by a retired alias."""
    return REGISTRY[ALIASES.get(rule_id, rule_id)]


def _fmt(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return "" if v is None else v
