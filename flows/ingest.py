"""The ``ingest`` flow: check and load uploads, one task per chunk of ``chunk_size`` uploads.

Chunking is what keeps Prefect cheap: a task run costs 13-18 ms and a flow run >= 1.2 s, so one
flow run per batch with one task per ~100 uploads adds well under a second per 1,000 uploads on
top of ~30 s of real work. Retries happen only here, only for transient errors (bucket or lock
busy), and are safe because every step is idempotent (the ledger, create-only notices).
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.utilities.annotations import quote

from nianbao import pipeline
from nianbao.config import Settings
from nianbao.errors import TransientError
from nianbao.intake.store import ObjectRef


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a task only when it failed with a :class:`TransientError`."""
    return isinstance(state.result(raise_on_failure=False), TransientError)


@task(name="select-uploads", retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=only_transient,
      cache_policy=NO_CACHE)
def select_uploads(run: pipeline.Run, keys: list[str] | None) -> list[ObjectRef]:
    """List the inbox (or head the named keys) and drop what the ledger already has."""
    return pipeline.select_refs(run, keys)


@task(name="ingest-chunk", task_run_name="chunk-{index}", retries=3, retry_delay_seconds=[2, 10, 30],
      retry_condition_fn=only_transient, cache_policy=NO_CACHE)
def ingest_chunk(run: pipeline.Run, refs: list[ObjectRef], index: int) -> pipeline.ChunkResult:
    """Check, load (one transaction) and answer one chunk of uploads."""
    result = pipeline.ingest_chunk(run, refs)
    log = get_run_logger()
    log.info("chunk %d: %d uploads, %d new, %d unchanged, %d duplicate, %d notices",
             index, len(refs), result.new, result.unchanged, result.duplicates, result.notices)
    if result.retry_later or result.notices_failed:
        log.warning("chunk %d: %d downloads and %d notice writes failed; the next run retries them",
                    index, result.retry_later, result.notices_failed)
    return result


@task(name="sweep-notices", retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=only_transient,
      cache_policy=NO_CACHE)
def sweep_notices(run: pipeline.Run) -> int:
    """Deliver notices an earlier, crashed run left pending."""
    return len(pipeline.sweep_notices(run).written)


def flow_settings(config: dict[str, Any] | None, chunk_size: int | None) -> Settings:
    """Settings from the environment, with non-secret overrides passed as flow parameters."""
    overrides = dict(config or {})
    if chunk_size:
        overrides["chunk_size"] = chunk_size
    return Settings(**overrides)


def run_batch(settings: Settings, keys: list[str] | None) -> dict[str, Any]:
    """The body shared by ``ingest`` and ``watch``: select, then one task per chunk."""
    try:
        runner = f"prefect:{get_run_context().flow_run.id}"  # type: ignore[union-attr]
    except Exception:
        runner = "prefect"
    run = pipeline.Run.open(settings, runner)
    try:
        t0 = time.perf_counter()
        refs = select_uploads(quote(run), keys)
        select_seconds = time.perf_counter() - t0  # includes the task run's own overhead
        results = [ingest_chunk(quote(run), chunk, i)
                   for i, chunk in enumerate(pipeline.chunked(refs, settings.chunk_size))]
        swept = sweep_notices(quote(run))
    finally:
        run.close()  # stop the parsing workers
    return pipeline.summarize(run.load_id, results, swept, select_seconds)


@flow(name="ingest", description="Check uploads from the bucket, load them into the warehouse, answer them.")
def ingest(keys: list[str] | None = None, key: str | None = None, chunk_size: int | None = None,
           config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ingest the named object keys (``keys`` and/or one ``key``, as event triggers pass them), or
    everything new in the inbox when none is named."""
    named = [*(keys or []), *([key] if key else [])]
    return run_batch(flow_settings(config, chunk_size), named or None)
