"""Property: a mutated real file always gets a well-formed answer, never a reader crash, in time.

The seeds are the real files of each format (``sample_inputs/`` and, when it is beside the
checkout, ``../shared/corpus/real/``); the mutations are those of ``tests/helpers/mutate.py``
(bytes flipped, inserted, deleted, truncated; ``<w:t>`` text, Word rows shuffled and cells
deleted, spreadsheet values and references, HTML rows, cells and spans, text lines and numbers,
PDF numbers, keywords and content streams). The oracle is
:func:`~tests.helpers.mutate.result_problems`. ``benchmarks/fuzz.py`` runs the same mutations for
as long as one likes; an input it saves is replayed by :func:`test_saved_fuzz_findings_pass`.

A failing example names the seed file and the mutation seed: ``mutate(data, fmt, Random(seed))``
rebuilds the input.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.mutate import FORMATS, STRUCTURE_MUTATORS, format_of, mutate, run_check, seed_files

SECONDS = 10.0
"""Any mutated file, on a loaded 2-core CI machine (they take 0.01–1 s on an idle one)."""
EXAMPLES = {"text": 60, "html": 60, "docx": 60, "xlsx": 50, "pdf": 50}
"""Per format, every run: the whole file stays under a minute on one core."""

SEEDS = {fmt: seed_files(fmt) for fmt in FORMATS}
FINDINGS = Path(__file__).resolve().parents[2] / "fuzz-findings"
REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"
"""Inputs that crashed a reader in earlier fuzz runs (each ``.json`` beside says how), kept for good."""


def _judge(data: bytes, name: str, what: object) -> None:
    outcome = run_check(data, name, SECONDS)
    assert outcome.problems == [], f"{what}: {outcome.problems}"


def _fuzz(fmt: str) -> object:
    @settings(max_examples=EXAMPLES[fmt], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(seed_file=st.sampled_from(SEEDS[fmt]), seed=st.integers(0, 2**64 - 1))
    def run(seed_file: tuple[str, bytes], seed: int) -> None:
        name, original = seed_file
        mutated, applied = mutate(original, fmt, random.Random(seed))
        _judge(mutated, name, (name, seed, applied))

    return run


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutated_files_get_a_well_formed_answer(fmt: str) -> None:
    assert SEEDS[fmt], f"no {fmt} files in sample_inputs/"
    _fuzz(fmt)()  # type: ignore[operator]


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(FORMATS), data=st.data())
def test_bytes_spliced_in_by_hypothesis(fmt: str, data: st.DataObject) -> None:
    """Hypothesis's own bytes at its own offsets: its shrinking gives the smallest failing splice."""
    name, original = data.draw(st.sampled_from(SEEDS[fmt]))
    at = data.draw(st.integers(0, len(original)))
    cut = data.draw(st.integers(0, 64))
    junk = data.draw(st.binary(max_size=64))
    _judge(original[:at] + junk + original[at + cut :], name, (name, at, cut, junk))


@pytest.mark.parametrize(("fmt", "mutator"), [(f, m) for f in FORMATS for m in STRUCTURE_MUTATORS[f]])
def test_every_structure_mutator_on_every_seed_file(fmt: str, mutator: str) -> None:
    """Each structure-aware mutation once per seed file (fixed seeds): none goes untried."""
    fn = STRUCTURE_MUTATORS[fmt][mutator]
    for i, (name, original) in enumerate(SEEDS[fmt][:4]):
        _judge(fn(original, random.Random(i)), name, (name, mutator, i))


def test_seed_files_themselves_are_answered() -> None:
    for fmt in FORMATS:
        for name, data in SEEDS[fmt]:
            _judge(data, name, name)


def test_inputs_that_once_crashed_a_reader_are_answered() -> None:
    """The committed regressions, plus whatever a local ``benchmarks/fuzz.py`` run saved."""
    paths = sorted(REGRESSIONS.iterdir()) + (sorted(FINDINGS.iterdir()) if FINDINGS.is_dir() else [])
    inputs = [p for p in paths if p.suffix != ".json" and format_of(p.name)]
    assert len(inputs) >= 7
    for path in inputs:
        _judge(path.read_bytes(), path.name, path.name)
