"""Plain orchestration of one ingest: bucket → check → warehouse → notices. No Prefect here.

The flows in ``flows/`` wrap these functions in tasks; the CLI's ``--no-prefect`` path, the tests
and the benchmark call them directly. Streaming: listings are read page by page, uploads chunk by
chunk; a file's bytes live only from download (a few read ahead) to the end of
:func:`process_one`, and a chunk keeps only results and parsed reports until its one transaction.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any

from nianbao.check import CheckContext, check_bytes
from nianbao.intake.keys import InvalidKey, is_directory_marker, metadata_conflict, notice_keys, parse_key
from nianbao.intake.keys import submission_id as make_submission_id
from nianbao.intake.registry import Agency, Registry, load_registry
from nianbao.intake.store import ObjectRef, ObjectStore, S3Store, StoredObject, prefetch, put_all
from nianbao.warehouse import LoadOutcome, NoticeRecord, Submission, Warehouse
from nianbao.warehouse.load import utc_seconds
from nianbao.warehouse.queries import Lookups

if TYPE_CHECKING:
    from nianbao.config import Settings

ProcessedUpload = Submission
"""What :func:`process_one` returns: one checked upload, ready to load (see ``warehouse.load``)."""


@dataclass
class Run:
    """What every chunk of one ingest run shares: settings, bucket, warehouse, registry, load id."""

    settings: Settings
    store: ObjectStore
    warehouse: Warehouse
    registry: Registry
    load_id: str
    runner: str = ""

    @classmethod
    def open(cls, settings: Settings, runner: str = "", store: ObjectStore | None = None) -> Run:
        """Connect to the bucket, read the registry, and name this run's load."""
        store = store or S3Store.from_settings(settings)
        load_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        runner = runner or f"{socket.gethostname()}:{os.getpid()}"
        return cls(settings, store, Warehouse.from_settings(settings), load_registry(settings, store), load_id, runner)


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
    """Download (unless ``obj`` was prefetched), hash, identify, check and answer one upload."""
    from nianbao.rules import parse_failed

    t0 = time.perf_counter()
    obj = obj or store.get(ref.key)
    sha = hashlib.sha256(obj.data).hexdigest()
    received = utc_seconds(obj.last_modified)
    sid = make_submission_id(obj.key, f"{obj.etag}@{received.isoformat()}", sha)
    parsed = parse_key(obj.key, settings.s3.inbox_prefix)
    if not isinstance(parsed, InvalidKey):
        conflict = metadata_conflict(obj.metadata, parsed.agency_id, parsed.year)
        if conflict:
            parsed = InvalidKey(obj.key, conflict, parsed.agency_id, parsed.year)
    base = dict(submission_id=sid, key=obj.key, etag=obj.etag, version_id=obj.version_id, sha256=sha,
                size=len(obj.data), received_at=received, checked_at=datetime.now(UTC))
    agency = None
    if isinstance(parsed, InvalidKey):
        from nianbao.model.report import CheckResult

        result = CheckResult(source=obj.key, status="failed", findings=[parse_failed(parsed.reason)])
        sub = Submission(**base, agency_id=parsed.agency_id, year=parsed.year, filename=None,
                         key_error=parsed.reason, result=result)
    else:
        aid, year = parsed.agency_id, parsed.year
        agency = registry.get(aid)
        if lookups is not None and lookups.unchanged(aid, year, obj.key, sha):
            del obj
            return Submission(**base, agency_id=aid, year=year, filename=parsed.filename, key_error=None,
                              result=None, seconds=time.perf_counter() - t0)
        ctx = CheckContext(
            declared_year=year, agency_id=aid, agency_name=agency.name if agency else None,
            agency_level=agency.level if agency else None, received_at=received,
            local_deadline=settings.local_deadline,
            prior_year=(lambda y, _a=aid: lookups.prior(_a, y)) if lookups is not None else None,
        )
        report, result = check_bytes(obj.data, obj.key, ctx)
        sub = Submission(**base, agency_id=aid, year=year, filename=parsed.filename, key_error=None,
                         result=result, report=report)
    del obj  # the bytes are not needed any more; only results travel on
    sub.notice = render(sub, settings, agency)
    sub.seconds = time.perf_counter() - t0
    return sub


def render(sub: Submission, settings: Settings, agency: Agency | None) -> NoticeRecord:
    """The notice answering one submission (addressed by the registry's name, else the report's)."""
    from nianbao.notices import NoticeInput, render_notice

    assert sub.result is not None
    ok = sub.key_error is None
    rendered = render_notice(NoticeInput(
        submission_id=sub.submission_id, key=sub.key, agency_id=sub.agency_id if ok else None,
        agency_name=((agency.name if agency else None) or sub.result.agency) if ok else None, year=sub.year,
        received_at=sub.received_at, sha256=sub.sha256, size=sub.size, result=sub.result, report=sub.report,
        registry_email=agency.email if agency and ok else None,
    ))
    json_key, md_key = notice_keys(sub.submission_id, sub.agency_id, sub.year, settings.s3.outbox_prefix)
    return NoticeRecord(rendered.kind, rendered.subject, json_key, md_key, rendered.json, rendered.markdown,
                        agency.email if agency and ok else None)


def load_batch(warehouse: Warehouse, items: list[ProcessedUpload], load_id: str, runner: str = "") -> LoadOutcome:
    """Load checked uploads in one transaction (exactly once; see :mod:`nianbao.warehouse.load`)."""
    return warehouse.load(items, load_id, runner)


@dataclass
class Delivery:
    """What :func:`deliver_notices` did."""

    written: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    emailed: list[str] = field(default_factory=list)
    email_errors: dict[str, str] = field(default_factory=dict)


def deliver_notices(store: ObjectStore, warehouse: Warehouse, settings: Settings,
                    submission_ids: list[str] | None = None, refresh_snapshot: bool = False) -> Delivery:
    """Write pending notices to the outbox (create-only), e-mail them if configured, record it.

    The notice rows were committed with their submissions (a transactional outbox), so a crash
    here loses nothing: the next run finds them still pending. ``If-None-Match: *`` makes a second
    deliverer's write a no-op, and e-mail goes out only with the write that created the object.
    """
    from nianbao.warehouse.load import mark_sent, pending_notices

    with warehouse.write() as con:
        pending = pending_notices(con, submission_ids)
    out = Delivery()
    sent: list[tuple[str, datetime, datetime | None, str | None]] = []
    wrote_all = put_all(store, [partial(_put_notice, store, n) for n in pending])
    for n, wrote in zip(pending, wrote_all, strict=True):
        sid = n["submission_id"]
        (out.written if wrote else out.already).append(sid)
        emailed_at, error = None, None
        if wrote and settings.smtp_enabled and n["email_to"]:
            error = _email(settings, n)
            if error is None:
                emailed_at = datetime.now(UTC)
                out.emailed.append(sid)
            else:
                out.email_errors[sid] = error
        sent.append((sid, datetime.now(UTC), emailed_at, error))
    if sent or refresh_snapshot:
        with warehouse.write(refresh_snapshot=refresh_snapshot) as con:
            mark_sent(con, sent)
    return out


def _put_notice(store: ObjectStore, n: dict[str, Any]) -> bool:
    """Write one notice's Markdown, then its JSON (the record); True if this call created it."""
    store.put(n["md_key"], n["body_md"].encode(), "text/markdown; charset=utf-8", if_none_match=True)
    return store.put(n["json_key"], n["body_json"].encode(), "application/json; charset=utf-8", if_none_match=True)


def _email(settings: Settings, n: dict[str, Any]) -> str | None:
    """Send one notice; the error text if it failed (the bucket copy is the record, so go on)."""
    from nianbao.errors import NianbaoError
    from nianbao.notices import RenderedNotice
    from nianbao.notices.deliver import send_email

    smtp = settings.smtp
    rendered = RenderedNotice(n["kind"], n["subject"], n["body_json"], n["body_md"])
    try:
        send_email(str(smtp.host), smtp.port, smtp.sender, n["email_to"], rendered, username=smtp.username,
                   password=smtp.password.get_secret_value() if smtp.password else None, starttls=smtp.starttls)
    except NianbaoError as exc:
        return str(exc)
    return None


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


def ingest_chunk(run: Run, refs: list[ObjectRef],
                 on_item: Callable[[ProcessedUpload], None] | None = None) -> ChunkResult:
    """Process, load and answer one chunk; refresh the snapshot. Safe to retry (idempotent)."""
    items: list[Submission] = []
    t_start = time.perf_counter()
    with run.warehouse.read() as con:
        lookups = Lookups(con)
        for ref, obj in prefetch(run.store, refs):
            if obj is None:
                continue  # deleted since listing; the next poll sees what is there now
            sub = process_one(run.store, ref, run.settings, run.registry, lookups, obj)
            lookups.remember(sub)
            items.append(sub)
            if on_item is not None:
                on_item(sub)
    t0 = time.perf_counter()
    outcome = load_batch(run.warehouse, items, run.load_id, run.runner)
    t1 = time.perf_counter()
    delivery = Delivery()
    if outcome.new or outcome.unchanged:  # something changed: answer it and republish the snapshot
        delivery = deliver_notices(run.store, run.warehouse, run.settings, outcome.new, refresh_snapshot=True)
    t2 = time.perf_counter()
    new = set(outcome.new)
    rows = [{"key": s.key, "agency_id": s.agency_id, "year": s.year, "submission_id": s.submission_id,
             "status": s.status, "findings": len(s.result.findings) if s.result else 0,
             "loaded": s.submission_id in new} for s in items]
    return ChunkResult(rows, len(outcome.new), len(outcome.unchanged), len(outcome.duplicates),
                       len(outcome.deferred), len(delivery.written), t0 - t_start, t1 - t0, t2 - t1)


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
    t0 = time.perf_counter()
    refs, select_seconds = select_refs(run, keys), time.perf_counter() - t0
    results = [ingest_chunk(run, chunk, on_item) for chunk in chunked(refs, settings.chunk_size)]
    return summarize(run.load_id, results, len(sweep_notices(run).written), select_seconds)


def sweep_notices(run: Run) -> Delivery:
    """Deliver notices left pending by an earlier run that crashed between its load and delivery."""
    return deliver_notices(run.store, run.warehouse, run.settings, None)


def summarize(load_id: str, results: list[ChunkResult], swept: int = 0, select_seconds: float = 0.0) -> dict[str, Any]:
    """An ingest's outcome: counts, timings and one row per upload (what flows return)."""
    out: dict[str, Any] = {"load_id": load_id, "select_seconds": select_seconds, "chunks": len(results),
                           "uploads": sum(len(r.rows) for r in results), "rows": [x for r in results for x in r.rows]}
    for name in ("new", "unchanged", "duplicates", "deferred", "notices", "check_seconds", "load_seconds",
                 "deliver_seconds"):
        out[name] = sum(getattr(r, name) for r in results)
    out["notices"] += swept
    return out
