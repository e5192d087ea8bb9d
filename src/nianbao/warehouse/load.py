"""Load checked uploads into the warehouse: exactly once, one transaction per chunk, in bulk.

Identity. An upload is one version of one object: ``(key, etag, received_at)`` where
``received_at`` is the object's Last-Modified (whole seconds). Its ``submission_id`` hashes that
plus the sha256 of the bytes read, so a re-delivery (a duplicate event, a second poller, a
retried task) maps to the same id.

Exactly once. Inside the transaction, under the write lock, each upload is classified against
what is already loaded:

- ``duplicate``: its ``(key, etag, received_at)`` is in the ``ledger``: nothing is written.
- ``unchanged``: a new object version with the same bytes (sha256) as the latest upload of the
  same key, or as the agency-year's current submission: the issue's identity ``(key, ETag,
  sha256)`` is the same upload again (a sync tool or the demo re-seeding its bucket). Only a
  ledger row is written, pointing at the existing submission; no new submission, no new notice.
- ``new``: a submission with its report, cells, findings and notice. The ``submissions`` view
  makes the upload with the latest ``received_at`` the one ``current`` row of its agency-year, so
  a new file supersedes the previous one while history stays (an older file that arrives late
  does not). Re-uploading an earlier file over a different one (A, B, then A again at the same
  key) is a revert and so a new submission.

Atomicity. One transaction per chunk (``settings.chunk_size`` uploads): all tables, the ledger
and the ``loads`` row commit together, so a crash leaves each submission whole or absent, and an
upload whose ledger row is absent is simply found again by the next poll. Per chunk rather than
per submission because opening, checkpointing and closing DuckDB costs ~40-60 ms and each
appender has a fixed cost: per submission that would be a minute per 1,000 uploads of pure
overhead. Rows go in through DuckDB's Appender (~575k rows/s; ``executemany`` manages ~570).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from nianbao.model.cells import catalog

if TYPE_CHECKING:
    from nianbao.model.report import CheckResult, Report
    from nianbao.uploads import FetchFailure

EMAIL_LEASE_SECONDS = 30
"""Time claimed per e-mail retry (and once more for the batch): one SMTP exchange, its 10 s
timeout included, with room to spare."""


@dataclass(slots=True)
class NoticeRecord:
    """A rendered notice and where it goes; delivered after the load (transactional outbox)."""

    kind: str
    subject: str
    json_key: str
    md_key: str
    body_json: str
    body_md: str
    email_to: str | None = None


@dataclass(slots=True)
class Submission:
    """One checked upload, ready to load (the pipeline's ``ProcessedUpload``)."""

    submission_id: str
    key: str
    etag: str
    version_id: str | None
    sha256: str | None
    """``None`` for an upload answered without its bytes (over the size limit, downloads failing)."""
    size: int
    received_at: datetime
    checked_at: datetime
    agency_id: str | None
    year: int | None
    filename: str | None
    key_error: str | None
    result: CheckResult | None
    """``None`` when the pipeline skipped checking because the bytes equal the current report's."""
    report: Report | None = None
    notice: NoticeRecord | None = None
    seconds: float = 0.0
    """Wall time spent downloading and checking (for the benchmark's overhead figure)."""

    @property
    def status(self) -> str:
        """``rejected`` for a key outside the layout, else the check's status."""
        if self.key_error is not None:
            return "rejected"
        return self.result.status if self.result is not None else "unchanged"

    @property
    def identity(self) -> tuple[str, str, datetime]:
        """The ledger key ``(key, etag, received_at)``."""
        return (self.key, self.etag, self.received_at)


@dataclass(slots=True)
class LoadOutcome:
    """What one chunk's transaction did."""

    load_id: str
    new: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    """Keys skipped unchecked as unchanged whose agency-year changed meanwhile: found again next poll."""
    rows: int = 0
    attempts: int = 0
    """Failed downloads counted (see :func:`record_attempts`)."""


def record_attempts(con: Any, failures: list[FetchFailure], now: datetime) -> None:
    """Count one more failed download for each upload (inside the caller's transaction)."""
    for f in failures:
        con.execute(
            """INSERT INTO attempts VALUES ($k, $e, $t, 1, $err, $now, $now)
               ON CONFLICT (key, etag, received_at) DO UPDATE SET attempts = attempts.attempts + 1,
                 last_error = excluded.last_error, last_at = excluded.last_at""",
            {"k": f.key, "e": f.etag, "t": f.received_at, "err": f.error, "now": now})


def first(con: Any, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of a query, fully consumed (DuckDB 2 refuses new work on a half-read result)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def utc_seconds(ts: datetime) -> datetime:
    """``ts`` in UTC truncated to whole seconds (listing and GET disagree on sub-second precision)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).replace(microsecond=0)


def _known(con: Any, items: list[Submission]) -> dict[tuple[Any, ...], tuple[str, str]]:
    """``(sha256, submission_id)`` of each agency-year's current upload and of each key's latest."""
    out: dict[tuple[Any, ...], tuple[str, str]] = {}
    pairs = sorted({f"{s.agency_id}/{s.year}" for s in items if s.key_error is None})
    if pairs:
        for a, y, sha, sid in con.execute(
            "SELECT agency_id, year, sha256, submission_id FROM submissions WHERE is_current "
            "AND agency_id || '/' || year IN (SELECT unnest($1::VARCHAR[]))", [pairs]).fetchall():
            out[("ay", a, y)] = (sha, sid)
    for k, sha, sid in con.execute(
        "SELECT key, arg_max(sha256, seq), arg_max(submission_id, seq) FROM uploads "
        "WHERE key IN (SELECT unnest($1::VARCHAR[])) GROUP BY key", [sorted({s.key for s in items})]).fetchall():
        out[("key", k)] = (sha, sid)
    return out


def _slots(s: Submission) -> list[tuple[Any, ...]]:
    """Where an upload's bytes count as already loaded: its key's latest upload, its agency-year's current."""
    return [("key", s.key)] + ([("ay", s.agency_id, s.year)] if s.key_error is None else [])


def load_chunk(con: Any, items: list[Submission], load_id: str, runner: str = "",
               failures: list[FetchFailure] | None = None) -> LoadOutcome:
    """Load one chunk in one transaction on an open write connection; see the module docstring.

    ``failures`` are downloads that failed this run: each adds one to its upload's ``attempts``
    row, in the same transaction.
    """
    out = LoadOutcome(load_id)
    now = datetime.now(UTC)
    ordered = sorted(items, key=lambda s: (s.received_at, s.key))
    con.execute("BEGIN TRANSACTION")
    try:
        keys = sorted({s.key for s in ordered})
        seen = {
            (k, e, utc_seconds(t)) for k, e, t in con.execute(
                "SELECT key, etag, received_at FROM ledger WHERE key IN (SELECT unnest($1::VARCHAR[]))", [keys]
            ).fetchall()
        }
        known = _known(con, ordered)
        seq = int((first(con, "SELECT coalesce(max(seq), 0) FROM uploads") or (0,))[0])
        new: list[Submission] = []
        ledger: list[tuple[Any, ...]] = []
        for s in ordered:
            if s.identity in seen:
                out.duplicates.append(s.submission_id)
                continue
            same = None if s.sha256 is None else next(  # unread bytes never equal anything
                (known[k][1] for k in _slots(s) if known.get(k, ("",))[0] == s.sha256), None)
            if same is not None:  # the same bytes as what is loaded for this key or agency-year
                ledger.append((s.key, s.etag, s.received_at, s.sha256, same, load_id, now))
                out.unchanged.append(same)
            elif s.result is None:
                out.deferred.append(s.key)
                continue
            else:
                seq += 1
                new.append(s)
                ledger.append((s.key, s.etag, s.received_at, s.sha256, s.submission_id, load_id, now))
                out.new.append(s.submission_id)
                known.update({k: (s.sha256, s.submission_id) for k in _slots(s)})
            seen.add(s.identity)
        tables = rows_for(new, load_id, seq - len(new) + 1, now)
        tables["ledger"] = (["key", "etag", "received_at", "sha256", "submission_id", "load_id", "seen_at"], ledger)
        for table, (columns, rows) in tables.items():
            if rows:
                app = con.appender(table, columns=columns)
                app.append_rows(rows)
                app.flush()
                out.rows += len(rows)
        record_attempts(con, failures or [], now)
        out.attempts = len(failures or [])
        con.execute(
            """INSERT INTO loads VALUES ($id, $now, $now, $runner, $n, $d, $rows, 1)
               ON CONFLICT (load_id) DO UPDATE SET finished_at = excluded.finished_at,
                 submissions = loads.submissions + excluded.submissions,
                 duplicates = loads.duplicates + excluded.duplicates,
                 rows_loaded = loads.rows_loaded + excluded.rows_loaded, chunks = loads.chunks + 1""",
            {"id": load_id, "now": now, "runner": runner, "n": len(out.new),
             "d": len(out.duplicates) + len(out.unchanged), "rows": out.rows},
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return out


def pending_notices(con: Any, submission_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Notices not yet written to the bucket (all, or those of the given submissions)."""
    q = ("SELECT submission_id, kind, subject, json_key, md_key, body_json, body_md, email_to "
         "FROM notices WHERE sent_at IS NULL")
    params: list[Any] = []
    if submission_ids is not None:
        q += " AND submission_id IN (SELECT unnest($1::VARCHAR[]))"
        params = [submission_ids]
    cur = con.execute(q + " ORDER BY created_at, submission_id", params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def mark_sent(con: Any, sent: list[tuple[str, datetime, datetime | None, str | None, datetime | None, int]],
              failed: list[tuple[str, str]] | None = None) -> None:
    """Record delivery in one transaction: ``(submission_id, sent_at, emailed_at, email_error,
    email_retry_at, e-mails tried)`` per notice written, and ``(submission_id, error)`` per notice
    whose write failed (still pending)."""
    if not sent and not failed:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if sent:
            con.execute(
                """UPDATE notices SET sent_at = u.sent_at, emailed_at = u.emailed_at, email_error = u.email_error,
                     email_retry_at = u.retry_at, email_attempts = email_attempts + u.tries,
                     delivery_attempts = delivery_attempts + 1, delivery_error = NULL
                   FROM (SELECT unnest($1::VARCHAR[]) AS sid, unnest($2::TIMESTAMPTZ[]) AS sent_at,
                                unnest($3::TIMESTAMPTZ[]) AS emailed_at, unnest($4::VARCHAR[]) AS email_error,
                                unnest($5::TIMESTAMPTZ[]) AS retry_at, unnest($6::INTEGER[]) AS tries) u
                   WHERE notices.submission_id = u.sid""",
                [list(column) for column in zip(*sent, strict=True)],
            )
        if failed:
            con.execute(
                """UPDATE notices SET delivery_attempts = delivery_attempts + 1, delivery_error = u.error
                   FROM (SELECT unnest($1::VARCHAR[]) AS sid, unnest($2::VARCHAR[]) AS error) u
                   WHERE notices.submission_id = u.sid""",
                [[f[0] for f in failed], [f[1] for f in failed]],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def claim_emails(con: Any, max_attempts: int, now: datetime) -> list[dict[str, Any]]:
    """Notices written whose e-mail the server failed for now and is due again, claimed for this
    run: their next try moves past the time sending them can take, so a run delivering at the same
    time (which waits for the same write lock) does not send them too. If this run dies, they come
    due again after that."""
    cur = con.execute(
        "SELECT submission_id, kind, subject, body_json, body_md, email_to, email_attempts FROM notices "
        "WHERE emailed_at IS NULL AND email_retry_at <= $2 AND email_attempts < $1 "
        "ORDER BY email_retry_at, submission_id", [max_attempts, now])
    cols = [d[0] for d in cur.description]
    due = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    if due:
        lease = timedelta(seconds=EMAIL_LEASE_SECONDS * (1 + len(due)))
        con.execute("UPDATE notices SET email_retry_at = $1 WHERE submission_id IN (SELECT unnest($2::VARCHAR[]))",
                    [now + lease, [d["submission_id"] for d in due]])
    return due


def mark_emailed(con: Any, mailed: list[tuple[str, datetime | None, str | None, datetime | None]]) -> None:
    """Record e-mail retries: ``(submission_id, emailed_at, error, next retry or None)`` each."""
    if not mailed:
        return
    con.execute(
        """UPDATE notices SET emailed_at = u.emailed_at, email_error = u.error, email_retry_at = u.retry_at,
             email_attempts = email_attempts + 1
           FROM (SELECT unnest($1::VARCHAR[]) AS sid, unnest($2::TIMESTAMPTZ[]) AS emailed_at,
                        unnest($3::VARCHAR[]) AS error, unnest($4::TIMESTAMPTZ[]) AS retry_at) u
           WHERE notices.submission_id = u.sid""",
        [list(column) for column in zip(*mailed, strict=True)],
    )


def dumps(value: Any) -> str:
    """JSON text for a finding's expected/actual (any JSON-able value)."""
    return json.dumps(value, ensure_ascii=False, default=str)


Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def rows_for(new: list[Submission], load_id: str, first_seq: int, now: datetime) -> Rows:
    """The rows of every table for newly loaded submissions, as ``{table: (columns, rows)}``."""
    t: Rows = {
        "uploads": (["submission_id", "seq", "key", "etag", "version_id", "sha256", "size", "agency_id", "year",
                     "filename", "received_at", "checked_at", "status", "key_error", "template", "report_agency",
                     "report_year", "errors", "warnings", "load_id"], []),
        "report_docs": (["submission_id", "source", "source_format", "title", "agency", "year", "title_year",
                         "period_text", "period_start", "period_end", "template", "layouts", "tables", "missing",
                         "preamble", "load_id"], []),
        "report_sections": (["submission_id", "section", "text", "load_id"], []),
        "cells": (["submission_id", "cell_id", "value", "raw", "blank", "src_table", "row_label", "col_label",
                   "line", "page", "load_id"], []),
        "findings": (["submission_id", "ordinal", "rule", "severity", "at", "expected", "actual", "message",
                      "location", "load_id"], []),
        "notices": (["submission_id", "kind", "subject", "json_key", "md_key", "body_json", "body_md", "email_to",
                     "created_at", "load_id"], []),
    }
    specs = catalog()
    for n, s in enumerate(new):
        res = s.result
        assert res is not None  # unchecked uploads are never new (see load_chunk)
        errors = sum(f.severity == "error" for f in res.findings)
        t["uploads"][1].append((
            s.submission_id, first_seq + n, s.key, s.etag, s.version_id, s.sha256, s.size, s.agency_id, s.year,
            s.filename, s.received_at, s.checked_at, s.status, s.key_error, res.template, res.agency, res.year,
            errors, len(res.findings) - errors, load_id))
        for i, f in enumerate(res.findings):
            t["findings"][1].append((s.submission_id, i, f.rule, f.severity, f.at, dumps(f.expected),
                                     dumps(f.actual), f.message, f.location, load_id))
        if s.notice is not None:
            nt = s.notice
            t["notices"][1].append((s.submission_id, nt.kind, nt.subject, nt.json_key, nt.md_key, nt.body_json,
                                    nt.body_md, nt.email_to, now, load_id))
        r = s.report
        if r is None:
            continue
        m = r.meta
        t["report_docs"][1].append((
            s.submission_id, r.source, r.source_format, m.title, m.agency, m.year, m.title_year, m.period_text,
            m.period_start, m.period_end, r.template, dumps(r.layouts), list(r.tables), list(r.missing),
            r.preamble, load_id))
        for sec, text in r.sections.items():
            t["report_sections"][1].append((s.submission_id, sec, text, load_id))
        for cid, c in r.cells.items():
            src = c.source
            spec = specs.get(cid)
            t["cells"][1].append((s.submission_id, cid, None if c.value is None else float(c.value), c.raw,
                                  c.blank, src.table, src.row_label, spec.col_label if spec else None,
                                  src.line, src.page, load_id))
    return t
