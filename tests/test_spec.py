"""The package's own copy of the contract matches ../shared/spec, and the catalog matches the rules."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from nianbao.model.cells import catalog, template_cells
from nianbao.rules import REGISTRY


def _packaged(name: str) -> bytes:
    return resources.files("nianbao.spec").joinpath(name).read_bytes()


def test_cells_json_is_the_shared_contract(shared_dir: Path) -> None:
    assert _packaged("cells.json") == (shared_dir / "spec" / "cells.json").read_bytes()


def test_rules_md_is_the_shared_contract(shared_dir: Path) -> None:
    assert _packaged("rules.md") == (shared_dir / "spec" / "rules.md").read_bytes()


def _rule_ids_in_table(md: str, heading: str) -> list[str]:
    part = md.split(heading, 1)[1]
    table = part.split("\n\n", 2)[1] if not part.lstrip().startswith("|") else part
    return re.findall(r"^\| `([A-Z0-9-]+)` \|", table, flags=re.M)


def test_every_core_rule_is_registered_once() -> None:
    md = _packaged("rules.md").decode()
    core = _rule_ids_in_table(md, "The core rules")
    assert len(core) == 14
    for rid in core:
        assert rid in REGISTRY, f"{rid} is in rules.md but not registered"


def test_every_registered_rule_is_in_the_contract_with_its_severity_and_anchor() -> None:
    md = _packaged("rules.md").decode()
    rows = {m[0]: (m[1], m[2]) for m in re.findall(r"^\| `([A-Z0-9-]+)` \| (error|warning) \| ([^|]+) \|", md, re.M)}
    for rid, rule in REGISTRY.items():
        assert rid in rows, f"{rid} is registered but not published in rules.md"
        assert rule.spec.severity == rows[rid][0], rid
        assert rule.spec.summary, f"{rid} has no docstring summary"


def test_catalog_merges_cells_shared_by_both_templates(shared_dir: Path) -> None:
    import json

    raw = json.loads((shared_dir / "spec" / "cells.json").read_text(encoding="utf-8"))["cells"]
    for template in ("2019", "2021"):
        want = {c["id"] for c in raw if template in c["templates"]}
        assert {c.id for c in template_cells(template)} == want
    assert catalog()["s2.licensing.decisions"].templates == ("2021", "2019")
    assert len(template_cells("2021")) == 200
    assert len(template_cells("2019")) == 198
