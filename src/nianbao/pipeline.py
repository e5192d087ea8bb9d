"""Plain orchestration of one ingest: bucket → check → warehouse → notices. No Prefect here.

The flows in ``flows/`` wrap these functions in tasks; the CLI's ``--no-prefect`` path, the tests
and the benchmark call them directly. Streaming: listings are read page by page, uploads chunk by
chunk; a file's bytes live only from download (a few read ahead) until it is answered (see
:func:`answer_uploads`), and a chunk keeps only results and parsed reports until its one
transaction. Files are parsed in worker processes (:mod:`nianbao.sandbox`) unless
``limits.isolate`` is off.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any

from nianbao import uploads
from nianbao.check import parse_outcome
from nianbao.errors import NianbaoError, ParseFailed, StoreUnreachable
from nianbao.intake.keys import is_directory_marker
from nianbao.intake.registry import Registry, load_registry
from nianbao.intake.store import ObjectRef, ObjectStore, S3Store, StoredObject, prefetch, put_all
from nianbao.sandbox import Limits, Sandbox, default_workers
from nianbao.warehouse import LoadOutcome, Submission, Warehouse
from nianbao.warehouse.load import utc_seconds
from nianbao.warehouse.queries import Lookups

if TYPE_CHECKING:
    from nianbao.config import Settings
    from nianbao.model.report import Report

ProcessedUpload = Submission
"""One answered upload, ready to load (see :mod:`nianbao.uploads` and ``warehouse.load``)."""


@dataclass
class Run:
    """What every chunk of one ingest run shares: settings, bucket, warehouse, registry, load id,
    and the parsing workers (close the run to stop them)."""

    settings: Settings
    store: ObjectStore
    warehouse: Warehouse
    registry: Registry
    load_id: str
    runner: str = ""
    sandbox: Sandbox | None = None

    @classmethod
    def open(cls, settings: Settings, runner: str = "", store: ObjectStore | None = None) -> Run:
        """Connect to the bucket, read the registry, and name this run's load."""
        store = store or S3Store.from_settings(settings)
        load_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        runner = runner or f"{socket.gethostname()}:{os.getpid()}"
        lim = settings.limits
        sandbox = Sandbox(lim.parse_workers or default_workers(), Limits(lim.parse_timeout, lim.parse_memory_mb)) \
            if lim.isolate else None
        return cls(settings, store, Warehouse.from_settings(settings), load_registry(settings, store), load_id,
                   runner, sandbox)

    @property
    def parallel(self) -> int:
        """Files parsed at once."""
        return self.sandbox.workers if self.sandbox is not None else 1

    def parse(self, data: bytes, source: str) -> Report | ParseFailed:
        """Parse one file: in a worker when isolated, else here."""
        if self.sandbox is not None:
            return self.sandbox.parse(data, source)
        return parse_outcome(data, source)

    def close(self) -> None:
        """Stop the parsing workers."""
        if self.sandbox is not None:
            self.sandbox.close()


def discover_new(store: ObjectStore, ledger: Container[tuple[str, str, datetime]], prefix: str) -> Iterator[ObjectRef]:
    """Objects under ``prefix`` not yet in the ledger, streamed in key order."""
    for ref in store.list(prefix):
        if is_directory_marker(ref.key, ref.size):
            continue
        if (ref.key, ref.etag, utc_seconds(ref.last_modified)) not in ledger:
            yield ref


def refs_for_keys(store: ObjectStore, keys: Iterable[str]) -> Iterator[ObjectRef]:
    """The current version of each named key (keys that no longer exist are skipped)."""
    for key in dict.fromkeys(keys):
        ref = store.head(key)
        if ref is not None:
            yield ref


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def process_one(store: ObjectStore, ref: ObjectRef, settings: Settings, registry: Registry,
                lookups: Lookups | None = None, obj: StoredObject | None = None) -> ProcessedUpload:
    """Download (unless ``obj`` was given), check in this process and answer one upload."""
    if uploads.oversized(ref, settings):
        return uploads.refuse_oversized(ref, settings, registry)
    return uploads.process_one(obj or store.get(ref.key), settings, registry, lookups)


def answer_uploads(run: Run, refs: list[ObjectRef], lookups: Lookups,
                   failures: list[uploads.FetchFailure]) -> Iterator[Submission]:
    """Answer each upload of a chunk, parsing ``run.parallel`` files at once; failed downloads
    that may still heal are appended to ``failures`` instead (they are tried again next run).
    Raises :class:`StoreUnreachable` when the store stops answering altogether.

    Only the parsing leaves this thread: the snapshot connection behind ``lookups`` is not
    thread-safe, and the rules are cheap next to reading a file. At most ``parallel + 1`` files'
    bytes are held here, plus the prefetch window.
    """
    settings, registry = run.settings, run.registry
    fetch: list[ObjectRef] = []
    for ref in refs:
        if uploads.oversized(ref, settings):
            yield uploads.refuse_oversized(ref, settings, registry)
        else:
            fetch.append(ref)
    inflight: deque[tuple[uploads.Pending | Submission, Future[Report | ParseFailed] | None]] = deque()
    with ThreadPoolExecutor(max_workers=run.parallel, thread_name_prefix="nianbao-parse") as pool:
        for ref, got in prefetch(run.store, fetch):
            if got is None:
                continue  # deleted since listing; the next poll sees what is there now
            if isinstance(got, StoreUnreachable):
                raise got  # the store is down, not this upload: stop; the next run redoes the chunk
            if isinstance(got, NianbaoError):
                failure = uploads.FetchFailure(ref.key, ref.etag, utc_seconds(ref.last_modified), str(got))
                if lookups.attempts(failure.identity) + 1 < settings.limits.upload_attempts:
                    failures.append(failure)
                    continue
                inflight.append((uploads.give_up(failure, ref, settings, registry), None))
            else:
                prepared = uploads.prepare(got, settings, registry, lookups)
                del got
                parsing = pool.submit(run.parse, prepared.data, prepared.sub.key) \
                    if isinstance(prepared, uploads.Pending) else None
                inflight.append((prepared, parsing))
            while len(inflight) > run.parallel:
                yield _settle(*inflight.popleft(), settings, lookups)
        while inflight:
            yield _settle(*inflight.popleft(), settings, lookups)


def _settle(prepared: uploads.Pending | Submission, parsing: Future[Report | ParseFailed] | None,
            settings: Settings, lookups: Lookups) -> Submission:
    if isinstance(prepared, Submission):
        return prepared
    assert parsing is not None
    return uploads.finish(prepared, parsing.result(), settings, lookups)


def load_batch(warehouse: Warehouse, items: list[ProcessedUpload], load_id: str, runner: str = "",
               failures: list[uploads.FetchFailure] | None = None) -> LoadOutcome:
    """Load checked uploads in one transaction (exactly once; see :mod:`nianbao.warehouse.load`)."""
    return warehouse.load(items, load_id, runner, failures)


@dataclass
class Delivery:
    """What :func:`deliver_notices` did."""

    written: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    emailed: list[str] = field(default_factory=list)
    email_errors: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    """Notices whose write failed; they stay pending and the next run writes them."""


def deliver_notices(store: ObjectStore, warehouse: Warehouse, settings: Settings,
                    submission_ids: list[str] | None = None, refresh_snapshot: bool = False) -> Delivery:
    """Write pending notices to the outbox (create-only), e-mail them if configured, record it.

    The notice rows were committed with their submissions (a transactional outbox), so a crash
    here loses nothing: the next run finds them still pending. ``If-None-Match: *`` makes a second
    deliverer's write a no-op, and e-mail goes out only with the write that created the object.
    The sweep (``submission_ids`` None) also retries e-mails the server failed for now.
    """
    from nianbao.warehouse.load import claim_emails, mark_emailed, mark_sent, pending_notices

    retry_mail = submission_ids is None and settings.smtp_enabled
    with warehouse.write() as con:
        pending = pending_notices(con, submission_ids)
        unmailed = claim_emails(con, settings.smtp.send_attempts, datetime.now(UTC)) if retry_mail else []
    out = Delivery()
    sent: list[tuple[str, datetime, datetime | None, str | None, datetime | None, int]] = []
    failed: list[tuple[str, str]] = []
    wrote_all = put_all(store, [partial(_put_notice, store, n) for n in pending])
    for n, wrote in zip(pending, wrote_all, strict=True):
        sid = n["submission_id"]
        if isinstance(wrote, NianbaoError):
            out.failed[sid] = str(wrote)
            failed.append((sid, str(wrote)[:500]))
            continue
        (out.written if wrote else out.already).append(sid)
        if wrote and settings.smtp_enabled and n["email_to"]:
            emailed_at, error, retry_at = _email(settings, n, attempt=1, out=out)
            sent.append((sid, datetime.now(UTC), emailed_at, error, retry_at, 1))
        else:
            sent.append((sid, datetime.now(UTC), None, None, None, 0))
    mailed = [(n["submission_id"], *_email(settings, n, n["email_attempts"] + 1, out)) for n in unmailed]
    if sent or failed or mailed or refresh_snapshot:
        with warehouse.write(refresh_snapshot=True) as con:  # analysts see delivery state as it is
            mark_sent(con, sent, failed)
            mark_emailed(con, mailed)
    return out


def _put_notice(store: ObjectStore, n: dict[str, Any]) -> bool:
    """Write one notice's Markdown, then its JSON (the record); True if this delivery created it.

    Each delivery tags its write with a token: when botocore retries a create-only PUT whose first
    answer was lost, the object is already there (412), and only the token tells our own write
    from another deliverer's, so the notice is still e-mailed exactly once.
    """
    token = {"nianbao-delivery": uuid.uuid4().hex}
    store.put(n["md_key"], n["body_md"].encode(), "text/markdown; charset=utf-8", if_none_match=True)
    if store.put(n["json_key"], n["body_json"].encode(), "application/json; charset=utf-8", if_none_match=True,
                 metadata=token):
        return True
    return store.metadata(n["json_key"]) == token


def _email(settings: Settings, n: dict[str, Any], attempt: int,
           out: Delivery) -> tuple[datetime | None, str | None, datetime | None]:
    """Send one notice (its ``attempt``-th try): when it went, the error if it failed, and when a
    later run should try again (the server failed for now and tries remain; else None). Never
    raises: the bucket copy is the record, so delivery goes on."""
    from nianbao.errors import TransientError
    from nianbao.notices import RenderedNotice
    from nianbao.notices.deliver import send_email

    smtp = settings.smtp
    rendered = RenderedNotice(n["kind"], n["subject"], n["body_json"], n["body_md"])
    try:
        send_email(str(smtp.host), smtp.port, smtp.sender, n["email_to"], rendered, username=smtp.username,
                   password=smtp.password.get_secret_value() if smtp.password else None, starttls=smtp.starttls)
    except NianbaoError as exc:
        out.email_errors[n["submission_id"]] = str(exc)
        again = isinstance(exc, TransientError) and attempt < smtp.send_attempts
        wait = timedelta(seconds=smtp.retry_after * 4 ** (attempt - 1))
        return None, str(exc)[:500], datetime.now(UTC) + wait if again else None
    out.emailed.append(n["submission_id"])
    return datetime.now(UTC), None, None


@dataclass
class ChunkResult:
    """A chunk's outcome, small enough to return from a Prefect task."""

    rows: list[dict[str, Any]]
    new: int
    unchanged: int
    duplicates: int
    deferred: int
    notices: int
    check_seconds: float
    """Wall time of downloading and checking the chunk (downloads overlap checks)."""
    load_seconds: float
    deliver_seconds: float
    retry_later: int = 0
    """Uploads whose download failed this run (counted; tried again on the next run)."""
    notices_failed: int = 0
    """Notices whose write failed (still pending; the next run writes them)."""


def ingest_chunk(run: Run, refs: list[ObjectRef],
                 on_item: Callable[[ProcessedUpload], None] | None = None) -> ChunkResult:
    """Answer, load (one transaction) and deliver one chunk; refresh the snapshot. Safe to retry."""
    items: list[Submission] = []
    failures: list[uploads.FetchFailure] = []
    t_start = time.perf_counter()
    with run.warehouse.read() as con:
        lookups = Lookups(con)
        for sub in answer_uploads(run, refs, lookups, failures):
            lookups.remember(sub)
            items.append(sub)
            if on_item is not None:
                on_item(sub)
    t0 = time.perf_counter()
    outcome = load_batch(run.warehouse, items, run.load_id, run.runner, failures)
    t1 = time.perf_counter()
    delivery = Delivery()
    if outcome.new or outcome.unchanged or outcome.attempts:  # something changed: answer it, republish
        delivery = deliver_notices(run.store, run.warehouse, run.settings, outcome.new, refresh_snapshot=True)
    t2 = time.perf_counter()
    new = set(outcome.new)
    rows = [{"key": s.key, "agency_id": s.agency_id, "year": s.year, "submission_id": s.submission_id,
             "status": s.status, "findings": len(s.result.findings) if s.result else 0,
             "loaded": s.submission_id in new} for s in items]
    rows += [{"key": f.key, "agency_id": None, "year": None, "submission_id": None, "status": "retry-later",
              "findings": 0, "loaded": False, "error": f.error} for f in failures]
    return ChunkResult(rows, len(outcome.new), len(outcome.unchanged), len(outcome.duplicates),
                       len(outcome.deferred), len(delivery.written), t0 - t_start, t1 - t0, t2 - t1,
                       len(failures), len(delivery.failed))


def select_refs(run: Run, keys: list[str] | None) -> list[ObjectRef]:
    """The uploads to ingest: the named keys, or everything new in the inbox (metadata only)."""
    ledger = run.warehouse.ledger(run.settings.s3.inbox_prefix)
    if keys:
        return [r for r in refs_for_keys(run.store, keys)
                if (r.key, r.etag, utc_seconds(r.last_modified)) not in ledger]
    return list(discover_new(run.store, ledger, run.settings.s3.inbox_prefix))


def run_ingest(settings: Settings, keys: list[str] | None = None, runner: str = "",
               on_item: Callable[[ProcessedUpload], None] | None = None,
               store: ObjectStore | None = None) -> dict[str, Any]:
    """One whole ingest without Prefect: select, then chunk by chunk process, load and answer."""
    run = Run.open(settings, runner, store)
    try:
        t0 = time.perf_counter()
        refs, select_seconds = select_refs(run, keys), time.perf_counter() - t0
        results = [ingest_chunk(run, chunk, on_item) for chunk in chunked(refs, settings.chunk_size)]
        return summarize(run.load_id, results, len(sweep_notices(run).written), select_seconds)
    finally:
        run.close()


def sweep_notices(run: Run) -> Delivery:
    """Deliver notices left pending by an earlier run that crashed between its load and delivery."""
    return deliver_notices(run.store, run.warehouse, run.settings, None)


def summarize(load_id: str, results: list[ChunkResult], swept: int = 0, select_seconds: float = 0.0) -> dict[str, Any]:
    """An ingest's outcome: counts, timings and one row per upload (what flows return)."""
    out: dict[str, Any] = {"load_id": load_id, "select_seconds": select_seconds, "chunks": len(results),
                           "uploads": sum(len(r.rows) for r in results), "rows": [x for r in results for x in r.rows]}
    for name in ("new", "unchanged", "duplicates", "deferred", "notices", "retry_later", "notices_failed",
                 "check_seconds", "load_seconds", "deliver_seconds"):
        out[name] = sum(getattr(r, name) for r in results)
    out["notices"] += swept
    return out
