"""One case file per rule id (tests/rules/cases/<RULE>.yaml): ``pytest -k S3-BALANCE`` runs one rule.

A case starts from a synthetic report (``base: zeros`` — every cell 0 — or ``base: {seed: N}``), changes
some cells (``set``: numbers, ``raw``: printed text, ``blanks``: printed empty), renders it as text
(``render: tab|pipe``, ``style``), optionally edits the text (``replace: [[old, new], ...]``, ``drop_between: [after, before]``) or gives
the whole file (``text``), checks it, and compares the findings OF THAT RULE, as
``[rule, at, expected, actual]`` lists, with ``expect`` (order ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nianbao.check import CheckContext, check_bytes
from nianbao.model.cells import template_cells
from nianbao.rules import REGISTRY
from tests.helpers.render_text import render_pipe, render_tab
from tests.helpers.synthetic import DEFAULT_SECTIONS, SyntheticReport, make_report

CASES = Path(__file__).parent / "cases"


def _load() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert spec["rule"] == path.stem, f"{path.name} declares rule {spec['rule']}"
        out.extend((spec["rule"], case) for case in spec["cases"])
    return out


def _report(case: dict[str, Any]) -> SyntheticReport:
    template = str(case.get("template", "2021"))
    year = case.get("year")
    base = case.get("base", "zeros")
    if base == "zeros":
        cells: dict[str, int | float] = {
            c.id: (0.0 if c.kind == "amount" else 0) for c in template_cells(template)
        }
        r = SyntheticReport(agency=case.get("agency", "示例县人民政府"), year=year or (2023 if template == "2021" else 2020),
                            template=template, cells=cells, sections=dict(DEFAULT_SECTIONS))
    else:
        r = make_report(template, seed=base["seed"], year=year)
    r.cells.update(case.get("set", {}))
    r.sections.update(case.get("sections", {}))
    if "period" in case:
        r.period = case["period"]
    return r


def _text(case: dict[str, Any]) -> bytes:
    if "text" in case:
        return str(case["text"]).encode("utf-8")
    if "hex" in case:
        return bytes.fromhex(case["hex"])
    r = _report(case)
    render = render_pipe if case.get("render") == "pipe" else render_tab
    style = case.get("style", "table" if render is render_pipe else "seed")
    text = render(r, blanks=frozenset(case.get("blanks", [])), raw=case.get("raw"), style=style)
    if "drop_between" in case:
        start, end = case["drop_between"]
        a = text.index(start) + len(start)
        text = text[:a] + "\n" + text[text.index(end, a):]
    for old, new in case.get("replace", []):
        assert old in text, f"replace: {old!r} is not in the rendered report"
        text = text.replace(old, new)
    return text.encode("utf-8")


ALL = _load()


@pytest.mark.parametrize(("rule", "case"), ALL, ids=[f"{r}:{c['name']}" for r, c in ALL])
def test_rule_case(rule: str, case: dict[str, Any]) -> None:
    context = CheckContext(declared_year=case.get("declared_year"))
    _, result = check_bytes(_text(case), case.get("source", "case.txt"), context)
    got = sorted([f.rule, f.at, f.expected, f.actual] for f in result.findings if f.rule == rule)
    want = sorted(list(x) for x in case["expect"])
    assert got == want
    if "status" in case:
        assert result.status == case["status"]


def test_every_file_rule_has_a_failing_and_a_passing_case() -> None:
    have_fail = {r for r, c in ALL if c["expect"]}
    have_pass = {r for r, c in ALL if not c["expect"]}
    file_rules = {rid for rid, r in REGISTRY.items() if not r.spec.needs_context}
    assert file_rules <= have_fail, f"rules without a failing case: {sorted(file_rules - have_fail)}"
    assert file_rules - {"PARSE-FAILED"} <= have_pass, f"without a passing case: {sorted(file_rules - have_pass)}"
