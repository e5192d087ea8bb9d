"""Read models over the warehouse: the ledger diff, status listings, and prior-year reports.

Everything here takes an open connection. The pipeline reads prior-year reports and current
content hashes from the *snapshot* (no lock, never blocks a loader; it is refreshed after every
load); the ledger diff reads the live file under the write lock, because it must be exact.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from nianbao.model.cells import catalog
from nianbao.model.report import CellValue, Report, ReportMeta, Source
from nianbao.warehouse.load import Submission, utc_seconds

Identity = tuple[str, str, datetime]


def ledger_identities(con: Any, prefix: str = "") -> set[Identity]:
    """Every ``(key, etag, received_at)`` already processed under ``prefix``."""
    rows = con.execute("SELECT key, etag, received_at FROM ledger WHERE starts_with(key, ?)", [prefix]).fetchall()
    return {(k, e, utc_seconds(t)) for k, e, t in rows}


def rows_as_dicts(cur: Any) -> list[dict[str, Any]]:
    """A cursor's rows as dicts keyed by column name."""
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def recent_submissions(con: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The latest submissions first, with their state (for ``nianbao status``)."""
    cur = con.execute(
        """SELECT s.submission_id, s.key, s.agency_id, s.year, s.status, s.findings_count, s.errors,
                  s.is_current, s.superseded_by, s.received_at, n.kind AS notice, n.sent_at AS notice_sent_at
           FROM submissions s LEFT JOIN notices n USING (submission_id)
           ORDER BY s.seq DESC LIMIT ?""", [limit])
    return rows_as_dicts(cur)


def submissions_for_keys(con: Any, keys: list[str]) -> list[dict[str, Any]]:
    """Every submission of the given keys, oldest first (for the demo's summary)."""
    cur = con.execute(
        """SELECT submission_id, key, agency_id, year, status, findings_count, errors, warnings, is_current,
                  received_at, load_id
           FROM submissions WHERE key IN (SELECT unnest($1::VARCHAR[])) ORDER BY seq""", [keys])
    return rows_as_dicts(cur)


def known_sha256(con: Any, agency_id: str, year: int, key: str) -> set[str]:
    """sha256 of the agency-year's current upload and of the key's latest upload (the bytes that
    would make a new version of ``key`` "unchanged", see :mod:`nianbao.warehouse.load`)."""
    rows = con.execute(
        """SELECT sha256 FROM submissions WHERE is_current AND agency_id = ? AND year = ?
           UNION ALL SELECT arg_max(sha256, seq) FROM uploads WHERE key = ?""", [agency_id, year, key]).fetchall()
    return {r[0] for r in rows if r[0] is not None}


def _value(cell_id: str, v: float | None) -> int | float | None:
    if v is None:
        return None
    spec = catalog().get(cell_id)
    if spec is not None and spec.kind != "amount" and float(v).is_integer():
        return int(v)
    return v


def prior_report(con: Any, agency_id: str, year: int) -> Report | None:
    """The agency's current report for ``year`` rebuilt from the warehouse, or ``None``.

    Only submissions that produced a report count; the rebuilt ``Report`` carries meta,
    template, per-table layouts, section texts and every cell with raw text, value and source,
    which is what the context rules (carry-over, in-force continuity, copied narrative) read.
    """
    cur = con.execute(
        """SELECT d.* FROM reports r JOIN report_docs d USING (submission_id)
           WHERE r.agency_id = ? AND r.year = ?""", [agency_id, year])
    docs = rows_as_dicts(cur)
    if not docs:
        return None
    d = docs[0]
    sid = d["submission_id"]
    sections = dict(con.execute("SELECT section, text FROM report_sections WHERE submission_id = ?", [sid]).fetchall())
    cells: dict[str, CellValue] = {}
    for cid, value, raw, blank, table, row_label, line, page in con.execute(
        "SELECT cell_id, value, raw, blank, src_table, row_label, line, page FROM cells WHERE submission_id = ?",
        [sid],
    ).fetchall():
        cells[cid] = CellValue(id=cid, raw=raw or "", value=_value(cid, value), blank=bool(blank),
                               source=Source(table=table, row_label=row_label, line=line, page=page))
    order = {cid: i for i, cid in enumerate(catalog())}
    cells = dict(sorted(cells.items(), key=lambda kv: order.get(kv[0], len(order))))
    return Report(
        source=d["source"] or "",
        source_format=d["source_format"] or "text",
        meta=ReportMeta(title=d["title"], agency=d["agency"], year=d["year"], title_year=d["title_year"],
                        period_text=d["period_text"], period_start=d["period_start"], period_end=d["period_end"]),
        template=d["template"],
        layouts=json.loads(d["layouts"]) if d["layouts"] else {},
        sections={k: sections[k] for k in sorted(sections)},
        preamble=d["preamble"] or "",
        cells=cells,
        missing=list(d["missing"] or []),
        tables=list(d["tables"] or []),
    )


def table_names(con: Any) -> list[str]:
    """Tables and views an analyst can query."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def run_query(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run an analyst's SQL; return column names and rows."""
    cur = con.execute(sql)
    if cur.description is None:
        return [], []
    return [d[0] for d in cur.description], cur.fetchall()


class Lookups:
    """Prior-year reports and current content hashes for one chunk, from the snapshot.

    Reports checked earlier in the same chunk are not in the snapshot yet, so they are overlaid
    (the listing is in key order, hence an agency's years in ascending order).
    """

    def __init__(self, con: Any) -> None:
        self.con = con
        self.reports: dict[tuple[str, int], Report | None] = {}
        self.shas: dict[tuple[str, int, str], set[str]] = {}
        self.chunk: dict[tuple[str, int], str] = {}

    def prior(self, agency_id: str, year: int) -> Report | None:
        """The agency's current report for ``year``, if any."""
        if (agency_id, year) not in self.reports:
            self.reports[(agency_id, year)] = prior_report(self.con, agency_id, year) if self.con else None
        return self.reports[(agency_id, year)]

    def unchanged(self, agency_id: str, year: int, key: str, sha256: str) -> bool:
        """True if these bytes are already loaded for this key or agency-year (checking can be skipped)."""
        if (agency_id, year, key) not in self.shas:
            self.shas[(agency_id, year, key)] = known_sha256(self.con, agency_id, year, key) if self.con else set()
        return sha256 in self.shas[(agency_id, year, key)] or sha256 == self.chunk.get((agency_id, year))

    def attempts(self, identity: Identity) -> int:
        """Failed downloads of this upload version recorded by earlier runs."""
        import duckdb

        if self.con is None:
            return 0
        try:
            row = self.con.execute("SELECT attempts FROM attempts WHERE key = ? AND etag = ? AND received_at = ?",
                                   list(identity)).fetchall()
        except duckdb.CatalogException:  # a snapshot taken before migration 0003 has no such table
            return 0
        return int(row[0][0]) if row else 0

    def remember(self, s: Submission) -> None:
        """Make a just-checked upload visible to later uploads of the same chunk."""
        if s.agency_id is not None and s.year is not None and s.key_error is None and s.result is not None:
            self.chunk[(s.agency_id, s.year)] = s.sha256
            if s.report is not None:
                self.reports[(s.agency_id, s.year)] = s.report
