"""One upload → one answered :class:`~nianbao.warehouse.Submission`, whatever the upload is.

Every upload ends in exactly one of three ways, and each way has a notice:

- checked: its key follows the layout and its bytes were read, so the rules decide
  (``accepted`` / ``returned``, or ``failed`` when the file cannot be read as a report);
- refused before reading: a key outside the layout (``rejected``), or an object larger than
  ``limits.max_upload_mb`` (``failed``, decided from its listed size, never downloaded);
- given up: the object could not be downloaded in ``limits.upload_attempts`` runs (``failed``,
  with the last error); before that, a failed download is only counted (:class:`FetchFailure`)
  and the upload is tried again on the next run.

The work is split so that parsing can happen elsewhere (a worker process, in parallel) while
everything that reads the warehouse stays on the caller's thread: :func:`prepare` decides what an
upload needs, the caller parses ``Pending.data``, :func:`finish` runs the rules and renders the
notice.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nianbao.check import MB, CheckContext, check_outcome, failed_result, too_large
from nianbao.errors import ParseFailed
from nianbao.intake.keys import InvalidKey, metadata_conflict, notice_keys, parse_key
from nianbao.intake.keys import submission_id as make_submission_id
from nianbao.warehouse import NoticeRecord, Submission
from nianbao.warehouse.load import utc_seconds

if TYPE_CHECKING:
    from nianbao.config import Settings
    from nianbao.intake.registry import Agency, Registry
    from nianbao.intake.store import ObjectRef, StoredObject
    from nianbao.model.report import Report
    from nianbao.warehouse.queries import Lookups

MSG_GAVE_UP = ("系统连续 {n} 次读取该文件均失败（{error}），未能审核；请确认文件可以正常下载后重新上传，"
               "如仍失败请联系年报主管部门")


@dataclass(slots=True)
class FetchFailure:
    """A download that failed this run (after botocore's retries); counted, retried next run."""

    key: str
    etag: str
    received_at: datetime
    error: str

    @property
    def identity(self) -> tuple[str, str, datetime]:
        return (self.key, self.etag, self.received_at)


@dataclass(slots=True)
class Pending:
    """An upload whose bytes must be parsed before :func:`finish` can answer it."""

    sub: Submission
    data: bytes
    context: CheckContext
    agency: Agency | None
    started: float


def oversized(ref: ObjectRef, settings: Settings) -> bool:
    """True when the listed size is over the limit (such uploads are answered without a download)."""
    return ref.size > settings.limits.max_upload_mb * MB


def _base(key: str, etag: str, received: datetime, sha: str | None, size: int, version: str | None) -> dict[str, Any]:
    return dict(submission_id=make_submission_id(key, f"{etag}@{received.isoformat()}", sha or ""), key=key,
                etag=etag, version_id=version, sha256=sha, size=size, received_at=received,
                checked_at=datetime.now(UTC))


def _routed(key: str, settings: Settings, meta: dict[str, str] | None) -> Any:
    """The key's agency and year, or why it cannot be trusted (metadata cross-checked when read)."""
    parsed = parse_key(key, settings.s3.inbox_prefix)
    if meta is not None and not isinstance(parsed, InvalidKey):
        conflict = metadata_conflict(meta, parsed.agency_id, parsed.year)
        if conflict:
            return InvalidKey(key, conflict, parsed.agency_id, parsed.year)
    return parsed


def refuse(ref: ObjectRef, settings: Settings, registry: Registry, reason: str) -> Submission:
    """An upload answered ``failed`` without its bytes (too large, or downloads kept failing)."""
    t0 = time.perf_counter()
    received = utc_seconds(ref.last_modified)
    base = _base(ref.key, ref.etag, received, None, ref.size, ref.version_id)
    parsed = _routed(ref.key, settings, None)
    if isinstance(parsed, InvalidKey):
        return _rejected(base, parsed, settings, t0)
    sub = Submission(**base, agency_id=parsed.agency_id, year=parsed.year, filename=parsed.filename,
                     key_error=None, result=failed_result(ref.key, reason))
    agency = registry.get(parsed.agency_id)
    sub.notice = render(sub, settings, agency)
    sub.seconds = time.perf_counter() - t0
    return sub


def refuse_oversized(ref: ObjectRef, settings: Settings, registry: Registry) -> Submission:
    """The answer to an upload over the size limit, from its listed size."""
    return refuse(ref, settings, registry, too_large(ref.size, int(settings.limits.max_upload_mb * MB)))


def give_up(failure: FetchFailure, ref: ObjectRef, settings: Settings, registry: Registry) -> Submission:
    """The answer to an upload that could not be downloaded in ``limits.upload_attempts`` runs."""
    return refuse(ref, settings, registry,
                  MSG_GAVE_UP.format(n=settings.limits.upload_attempts, error=failure.error[:200]))


def _rejected(base: dict[str, Any], parsed: InvalidKey, settings: Settings, t0: float) -> Submission:
    sub = Submission(**base, agency_id=parsed.agency_id, year=parsed.year, filename=None,
                     key_error=parsed.reason, result=failed_result(base["key"], parsed.reason))
    sub.notice = render(sub, settings, None)
    sub.seconds = time.perf_counter() - t0
    return sub


def prepare(obj: StoredObject, settings: Settings, registry: Registry,
            lookups: Lookups | None = None) -> Submission | Pending:
    """Identify a downloaded upload: answered already (bad key, same bytes as loaded), or pending."""
    t0 = time.perf_counter()
    sha = hashlib.sha256(obj.data).hexdigest()
    received = utc_seconds(obj.last_modified)
    base = _base(obj.key, obj.etag, received, sha, len(obj.data), obj.version_id)
    parsed = _routed(obj.key, settings, obj.metadata)
    if isinstance(parsed, InvalidKey):
        return _rejected(base, parsed, settings, t0)
    aid, year = parsed.agency_id, parsed.year
    sub = Submission(**base, agency_id=aid, year=year, filename=parsed.filename, key_error=None, result=None)
    if lookups is not None and lookups.unchanged(aid, year, obj.key, sha):
        sub.seconds = time.perf_counter() - t0
        return sub
    agency = registry.get(aid)
    ctx = CheckContext(
        declared_year=year, agency_id=aid, agency_name=agency.name if agency else None,
        agency_level=agency.level if agency else None, received_at=received,
        local_deadline=settings.local_deadline,
        prior_year=(lambda y, _a=aid: lookups.prior(_a, y)) if lookups is not None else None,
    )
    return Pending(sub, obj.data, ctx, agency, t0)


def finish(p: Pending, parsed: Report | ParseFailed, settings: Settings,
           lookups: Lookups | None = None) -> Submission:
    """Run the rules over the parsed report and render the notice."""
    sub = p.sub
    assert sub.agency_id is not None and sub.year is not None and sub.sha256 is not None
    if lookups is not None and lookups.unchanged(sub.agency_id, sub.year, sub.key, sub.sha256):
        sub.seconds = time.perf_counter() - p.started  # an earlier upload of this chunk had these bytes
        return sub
    sub.report, sub.result = check_outcome(parsed, sub.key, p.context)
    sub.notice = render(sub, settings, p.agency)
    sub.seconds = time.perf_counter() - p.started
    return sub


def process_one(obj: StoredObject, settings: Settings, registry: Registry,
                lookups: Lookups | None = None) -> Submission:
    """Identify, parse in this process, check and answer one downloaded upload."""
    from nianbao.check import parse_outcome

    prepared = prepare(obj, settings, registry, lookups)
    if isinstance(prepared, Submission):
        return prepared
    return finish(prepared, parse_outcome(prepared.data, obj.key), settings, lookups)


def render(sub: Submission, settings: Settings, agency: Agency | None) -> NoticeRecord:
    """The notice answering one submission (addressed by the registry's name, else the report's).

    The notice goes under the outbox of the agency the key names, and carries only this
    submission's own data; a key that cannot be trusted is answered under ``_rejected``.
    """
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
