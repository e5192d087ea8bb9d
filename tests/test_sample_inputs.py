"""Golden conformance: `check --json` output for every file in sample_inputs/, compared whole.

A changed output is a failure until a person has looked at it: regenerate with
``NIANBAO_UPDATE_GOLDEN=1 pytest tests/test_sample_inputs.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nianbao.check import check_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p for p in (ROOT / "sample_inputs").iterdir()
                 if p.is_file() and not p.name.endswith(".expected.json") and not p.name.startswith("."))


def test_there_are_enough_samples() -> None:
    assert len(SAMPLES) >= 8
    statuses = {json.loads(p.with_name(p.name + ".expected.json").read_text(encoding="utf-8"))["status"]
                for p in SAMPLES if p.with_name(p.name + ".expected.json").exists()}
    assert statuses == {"accepted", "returned", "failed"}


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_check_output_is_the_golden_one(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    rel = str(path.relative_to(ROOT))
    _, result = check_file(rel)
    got = json.loads(result.to_json())
    golden = path.with_name(path.name + ".expected.json")
    if os.environ.get("NIANBAO_UPDATE_GOLDEN") == "1":
        golden.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden output for {path.name}; create it with NIANBAO_UPDATE_GOLDEN=1"
    assert got == json.loads(golden.read_text(encoding="utf-8"))
