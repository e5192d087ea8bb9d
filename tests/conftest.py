"""Shared fixtures: where the repository and the shared spec/corpus are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLES = ROOT / "sample_inputs"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (present in development and CI, not for users)."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


@pytest.fixture(scope="session")
def real_corpus(shared_dir: Path) -> Path:
    path = shared_dir / "corpus" / "real"
    if not path.is_dir():
        pytest.skip("../shared/corpus/real is absent")
    return path
