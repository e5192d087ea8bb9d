"""The Prefect flows, run for real under one session-scoped ``prefect_test_harness``.

The harness (a temporary Prefect server, ~17-20 s to start on 2 cores) is started once, lazily,
only by the tests here that run flows; the pipeline logic itself is tested without Prefect in
``tests/e2e`` and ``tests/warehouse``.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests/e2e/fixtures.py and used as arguments)
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from nianbao.config import Settings
from nianbao.errors import TerminalError, TransientError
from nianbao.intake.store import S3Store
from tests.e2e.fixtures import SAMPLES, s3_endpoint, settings, store  # noqa: F401

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="nianbao-prefect-home-"))

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def config(settings: Settings) -> dict[str, Any]:
    """What the CLI passes to the flows (plus the test credentials, which production leaves to env)."""
    s3 = settings.s3
    return {"data_dir": str(settings.data_dir),
            "s3": {"endpoint_url": settings.endpoint_url, "bucket": s3.bucket, "region": s3.region,
                   "access_key_id": s3.access_key_id.get_secret_value() if s3.access_key_id else None,
                   "secret_access_key": s3.secret_access_key.get_secret_value() if s3.secret_access_key else None}}


def current(settings: Settings) -> list[tuple[Any, ...]]:
    from nianbao.warehouse import Warehouse

    with Warehouse.from_settings(settings).read() as con:
        return con.execute("SELECT agency_id, status FROM submissions WHERE is_current ORDER BY agency_id").fetchall()


def test_ingest_flow_checks_loads_and_answers_in_chunks(prefect_harness: None, settings: Settings,
                                                        store: S3Store) -> None:
    from flows.ingest import ingest

    names = ["cangtai-2023.txt", "nanling-housing-2023-faulty.md", "meeting-notice.txt", "qingshan-eco-2023-clean.txt",
             "xihe-market-2019-faulty.txt"]
    for i, name in enumerate(names):
        store.put(f"inbox/a{i}/2023/{name}", (SAMPLES / name).read_bytes())
    summary = ingest(chunk_size=2, config=config(settings))
    assert (summary["uploads"], summary["new"], summary["notices"], summary["chunks"]) == (5, 5, 5, 3)
    assert current(settings) == [("a0", "accepted"), ("a1", "returned"), ("a2", "failed"), ("a3", "accepted"),
                                 ("a4", "returned")]
    assert len([r for r in store.list("outbox/") if r.key.endswith(".json")]) == 5
    again = ingest(key="inbox/a0/2023/cangtai-2023.txt", config=config(settings))
    assert (again["uploads"], again["new"]) == (0, 0)


def test_watch_flow_ingests_only_what_is_new(prefect_harness: None, settings: Settings, store: S3Store) -> None:
    from flows.watch import watch

    store.put("inbox/a/2023/r.txt", (SAMPLES / "cangtai-2023.txt").read_bytes())
    assert watch(config=config(settings))["new"] == 1
    assert watch(config=config(settings))["uploads"] == 0
    store.put("inbox/b/2023/r.txt", (SAMPLES / "cangtai-2023.txt").read_bytes())
    assert [r["key"] for r in watch(config=config(settings))["rows"]] == ["inbox/b/2023/r.txt"]


def test_only_transient_errors_are_retried(prefect_harness: None, settings: Settings, store: S3Store,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.ingest as mod

    from nianbao import pipeline

    store.put("inbox/a/2023/r.txt", (SAMPLES / "cangtai-2023.txt").read_bytes())
    calls: list[int] = []
    real = pipeline.ingest_chunk

    def flaky(run: Any, refs: Any, on_item: Any = None) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise TransientError("S3 busy")
        return real(run, refs, on_item)

    monkeypatch.setattr(pipeline, "ingest_chunk", flaky)
    monkeypatch.setattr(mod, "ingest_chunk", mod.ingest_chunk.with_options(retry_delay_seconds=0))
    assert mod.ingest(config=config(settings))["new"] == 1
    assert len(calls) == 2

    store.put("inbox/b/2023/r.txt", (SAMPLES / "cangtai-2023.txt").read_bytes())
    calls.clear()
    monkeypatch.setattr(pipeline, "ingest_chunk", lambda *a, **k: calls.append(1) or (_ for _ in ()).throw(
        TerminalError("bad config")))
    with pytest.raises(TerminalError):
        mod.ingest(config=config(settings))
    assert len(calls) == 1


def test_retry_condition_reads_the_exception_from_the_state() -> None:
    from flows.ingest import only_transient
    from prefect.states import Failed

    assert only_transient(None, None, Failed(data=TransientError("x")))
    assert not only_transient(None, None, Failed(data=TerminalError("x")))
    assert not only_transient(None, None, Failed(data=ValueError("x")))


def test_deployments_name_flows_schedules_and_triggers() -> None:
    from flows.serve import deployments

    from nianbao.intake.relay import BATCH_EVENT, EVENT_NAME

    deps = {f"{d.flow_name}/{d.name}": d for d in deployments(interval=45)}
    assert set(deps) == {"ingest/on-upload", "ingest/manual", "watch/poll"}
    triggers = {t.name: t for t in deps["ingest/on-upload"].triggers}
    assert triggers["on-upload"].expect == {EVENT_NAME}
    assert triggers["on-upload"].parameters == {"key": "{{ event.payload.key }}"}
    assert triggers["on-notification"].expect == {BATCH_EVENT}
    # ``payload.keys`` would render dict.keys (a method), not the list: verified against a live server
    assert triggers["on-notification"].parameters == {"keys": "{{ event.payload['keys'] }}"}
    (schedule,) = deps["watch/poll"].schedules
    assert schedule.schedule.interval.total_seconds() == 45
