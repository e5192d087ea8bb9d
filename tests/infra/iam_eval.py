"""A small evaluator of the IAM policy language, for what moto's IAM enforcement does not evaluate.

moto ignores every ``Condition`` (so ``s3:prefix`` on listing, the bucket policy's TLS, account
and tag conditions), substitutes no policy variables and evaluates no bucket policy of ours
faithfully. This covers exactly the subset our documents use, with AWS's documented semantics:

- explicit Deny wins, then any Allow, else implicit deny (identity and bucket policies of one
  account are pooled: either may allow);
- ``Action``/``NotAction``, ``Resource``/``NotResource`` with ``*`` and ``?`` wildcards (actions
  case-insensitive, resources case-sensitive); ``Principal`` only ``"*"``;
- policy variables ``${key}`` from the request context; a statement whose resource needs an
  absent variable does not apply;
- condition operators ``StringEquals``, ``StringNotEquals``, ``StringLike``, ``StringNotLike``,
  ``Bool``, ``Null`` and the ``…IfExists`` forms; operators and keys are ANDed, values ORed; an
  absent key fails positive operators and satisfies negated ones.

It is a model, not AWS: it proves the documents say what we mean under these rules. AWS itself
is checked with ``aws iam simulate-custom-policy`` (see infra/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Policy = dict[str, Any]
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class Unresolved(Exception):
    """A policy variable names a key the request context lacks."""


@dataclass(frozen=True)
class Request:
    """One authorisation question: may this action be done on this resource in this context."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _substitute(text: str, context: Mapping[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        if m[1] not in context:
            raise Unresolved(m[1])
        return context[m[1]]

    return _VARIABLE.sub(value, text)


def _glob(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE if ignore_case else 0) is not None


def _matches_any(patterns: Iterable[str], text: str, context: Mapping[str, str], *, ignore_case: bool = False,
                 literal: bool = False) -> bool:
    for pattern in patterns:
        try:
            concrete = _substitute(pattern, context)
        except Unresolved:
            continue  # a value that cannot be resolved matches nothing
        if (concrete == text) if literal else _glob(concrete, text, ignore_case=ignore_case):
            return True
    return False


def _condition_holds(operator: str, key: str, values: Sequence[str], context: Mapping[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    op = operator.removesuffix("IfExists")
    if op == "Null":
        return (key not in context) == (values[0].lower() == "true")
    if key not in context:
        return if_exists or op.startswith("StringNot")
    actual = context[key]
    if op == "StringEquals":
        return _matches_any(values, actual, context, literal=True)
    if op == "StringNotEquals":
        return not _matches_any(values, actual, context, literal=True)
    if op == "StringLike":
        return _matches_any(values, actual, context)
    if op == "StringNotLike":
        return not _matches_any(values, actual, context)
    if op == "Bool":
        return actual.lower() in (v.lower() for v in values)
    raise NotImplementedError(f"condition operator {operator} is outside this evaluator's subset")


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    ctx = request.context
    if "Principal" in statement and statement["Principal"] != "*":
        raise NotImplementedError("only Principal '*' is modelled")
    if "Action" in statement:
        if not _matches_any(_as_list(statement["Action"]), request.action, ctx, ignore_case=True):
            return False
    elif _matches_any(_as_list(statement["NotAction"]), request.action, ctx, ignore_case=True):
        return False
    try:
        if "Resource" in statement:
            if not any(_glob(_substitute(r, ctx), request.resource) for r in _as_list(statement["Resource"])):
                return False
        elif any(_glob(_substitute(r, ctx), request.resource) for r in _as_list(statement["NotResource"])):
            return False
    except Unresolved:
        return False
    conditions: Mapping[str, Mapping[str, str | Sequence[str]]] = statement.get("Condition", {})
    return all(
        _condition_holds(operator, key, _as_list(values), ctx)
        for operator, keys in conditions.items()
        for key, values in keys.items()
    )


def is_allowed(request: Request, policies: Iterable[Policy]) -> bool:
    """AWS's decision for ``request`` under the pooled policies (identity and bucket, one account)."""
    effects = {
        statement["Effect"]
        for policy in policies
        for statement in _as_list_of_statements(policy["Statement"])
        if _applies(statement, request)
    }
    return "Deny" not in effects and "Allow" in effects


def _as_list_of_statements(
    statements: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> list[Mapping[str, Any]]:
    return [statements] if isinstance(statements, Mapping) else list(statements)
