"""Named, ordered schema migrations, each applied once in its own transaction.

Applied migrations are recorded in ``_migrations(name, applied_at)``; a new schema change is a
new entry at the end of :data:`MIGRATIONS`, never an edit of an applied one.

Base tables hold facts and never change after a load, except the delivery columns of ``notices``
(``sent_at``, ``emailed_at`` and their attempts and errors: delivery happens after the load). Which upload is *current* for an agency-year is derived, not
stored: the ``submissions`` view ranks an agency-year's uploads by ``received_at`` (then load
order), so there is exactly one current upload by construction and a supersede needs no UPDATE.
Every row carries ``load_id`` (see ``loads``) and ``submission_id``.
"""

from __future__ import annotations

from typing import Any

CORE = """
CREATE TABLE loads (
    load_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    runner VARCHAR,
    submissions INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    rows_loaded BIGINT NOT NULL DEFAULT 0,
    chunks INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE ledger (
    key VARCHAR NOT NULL,
    etag VARCHAR NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    sha256 VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    load_id VARCHAR NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key, etag, received_at)
);
CREATE TABLE uploads (
    submission_id VARCHAR PRIMARY KEY,
    seq BIGINT NOT NULL,
    key VARCHAR NOT NULL,
    etag VARCHAR NOT NULL,
    version_id VARCHAR,
    sha256 VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    agency_id VARCHAR,
    year INTEGER,
    filename VARCHAR,
    received_at TIMESTAMPTZ NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL,
    status VARCHAR NOT NULL,
    key_error VARCHAR,
    template VARCHAR,
    report_agency VARCHAR,
    report_year INTEGER,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    load_id VARCHAR NOT NULL
);
CREATE TABLE report_docs (
    submission_id VARCHAR NOT NULL,
    source VARCHAR, source_format VARCHAR,
    title VARCHAR, agency VARCHAR, year INTEGER, title_year INTEGER,
    period_text VARCHAR, period_start VARCHAR, period_end VARCHAR,
    template VARCHAR, layouts JSON, tables VARCHAR[], missing VARCHAR[], preamble VARCHAR,
    load_id VARCHAR NOT NULL
);
CREATE TABLE report_sections (
    submission_id VARCHAR NOT NULL, section VARCHAR NOT NULL, text VARCHAR, load_id VARCHAR NOT NULL
);
CREATE TABLE cells (
    submission_id VARCHAR NOT NULL, cell_id VARCHAR NOT NULL, value DOUBLE, raw VARCHAR, blank BOOLEAN,
    src_table VARCHAR, row_label VARCHAR, col_label VARCHAR, line INTEGER, page INTEGER,
    load_id VARCHAR NOT NULL
);
CREATE TABLE findings (
    submission_id VARCHAR NOT NULL, ordinal INTEGER NOT NULL, rule VARCHAR NOT NULL, severity VARCHAR NOT NULL,
    "at" VARCHAR, expected JSON, actual JSON, message VARCHAR, location VARCHAR, load_id VARCHAR NOT NULL
);
CREATE TABLE notices (
    submission_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL, subject VARCHAR, json_key VARCHAR NOT NULL, md_key VARCHAR NOT NULL,
    body_json VARCHAR NOT NULL, body_md VARCHAR NOT NULL, email_to VARCHAR,
    created_at TIMESTAMPTZ NOT NULL, sent_at TIMESTAMPTZ, emailed_at TIMESTAMPTZ, email_error VARCHAR,
    load_id VARCHAR NOT NULL
);
"""

ANALYST_VIEWS = """
CREATE VIEW submissions AS
SELECT u.submission_id, u.key, u.agency_id, u.year, u.filename, u.sha256, u.etag, u.size,
       u.received_at, u.checked_at, u.status, u.key_error, u.template, u.errors, u.warnings,
       u.errors + u.warnings AS findings_count,
       (u.agency_id IS NOT NULL AND u.key_error IS NULL AND row_number() OVER w = 1) AS is_current,
       CASE WHEN u.key_error IS NULL THEN lag(u.submission_id) OVER w END AS superseded_by,
       u.load_id, u.seq
FROM uploads u
WINDOW w AS (PARTITION BY u.agency_id, u.year, u.key_error IS NULL ORDER BY u.received_at DESC, u.seq DESC);

CREATE VIEW reports AS
SELECT s.submission_id, s.agency_id, s.year, s.status, s.received_at, d.template, d.title,
       d.agency AS report_agency, d.year AS report_year, s.errors, s.warnings, s.load_id
FROM submissions s JOIN report_docs d USING (submission_id)
WHERE s.is_current;

CREATE VIEW current_cells AS
SELECT r.agency_id, r.year, c.* FROM reports r JOIN cells c USING (submission_id);

CREATE VIEW v_applications_by_applicant AS
SELECT year,
       split_part(cell_id, '.', 3) AS applicant_type,
       CASE split_part(cell_id, '.', 3)
            WHEN 'natural' THEN '自然人' WHEN 'commercial' THEN '商业企业' WHEN 'research' THEN '科研机构'
            WHEN 'nonprofit' THEN '社会公益组织' WHEN 'legal' THEN '法律服务机构' WHEN 'other_org' THEN '其他'
            ELSE '总计' END AS applicant_label,
       sum(value) AS new_applications, count(DISTINCT agency_id) AS agencies
FROM current_cells
WHERE cell_id LIKE 's3.new.%'
GROUP BY ALL ORDER BY year, applicant_type;

CREATE VIEW v_outcome_mix AS
WITH o AS (
    SELECT year, regexp_replace(cell_id, '^s3\\.|\\.total$', '', 'g') AS outcome, row_label, value
    FROM current_cells
    WHERE cell_id LIKE 's3.%.total'
      AND cell_id NOT IN ('s3.new.total', 's3.carried_over.total', 's3.total.total', 's3.carried_forward.total')
)
SELECT year, outcome, any_value(row_label) AS row_label, sum(value) AS applications,
       round(sum(value) / nullif(sum(sum(value)) OVER (PARTITION BY year), 0), 4) AS share
FROM o GROUP BY year, outcome ORDER BY year, applications DESC;

CREATE VIEW v_review_litigation AS
SELECT year, split_part(cell_id, '.', 2) AS proceeding,
       sum(value) FILTER (WHERE cell_id LIKE '%.upheld') AS upheld,
       sum(value) FILTER (WHERE cell_id LIKE '%.corrected') AS corrected,
       sum(value) FILTER (WHERE cell_id LIKE '%.other') AS other,
       sum(value) FILTER (WHERE cell_id LIKE '%.pending') AS pending,
       sum(value) FILTER (WHERE cell_id LIKE '%.total') AS total,
       count(DISTINCT agency_id) AS agencies
FROM current_cells WHERE cell_id LIKE 's4.%'
GROUP BY ALL ORDER BY year, proceeding;

CREATE VIEW v_returned_by_rule AS
SELECT s.year, f.rule, f.severity, count(DISTINCT s.submission_id) AS submissions,
       count(DISTINCT s.agency_id) AS agencies, count(*) AS findings
FROM submissions s JOIN findings f USING (submission_id)
WHERE s.is_current AND s.status IN ('returned', 'failed')
GROUP BY ALL ORDER BY s.year, submissions DESC, f.rule;

CREATE VIEW v_agency_status AS
SELECT agency_id, year, count(*) AS uploads,
       arg_max(status, received_at) FILTER (WHERE is_current) AS current_status,
       max(received_at) AS last_upload
FROM submissions WHERE agency_id IS NOT NULL AND key_error IS NULL
GROUP BY ALL ORDER BY agency_id, year;
"""

FAULTS = """
-- an upload answered without its bytes (over the size limit, downloads kept failing) has no hash
ALTER TABLE ledger ALTER COLUMN sha256 DROP NOT NULL;
ALTER TABLE uploads ALTER COLUMN sha256 DROP NOT NULL;
-- failed downloads per upload version, so a run knows when to stop retrying and answer it
CREATE TABLE attempts (
    key VARCHAR NOT NULL,
    etag VARCHAR NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL,
    last_error VARCHAR,
    first_at TIMESTAMPTZ NOT NULL,
    last_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key, etag, received_at)
);
-- notices whose write to the outbox failed stay pending; operators see how often and why
ALTER TABLE notices ADD COLUMN delivery_attempts INTEGER DEFAULT 0;
ALTER TABLE notices ADD COLUMN delivery_error VARCHAR;
CREATE VIEW v_pending_work AS
SELECT 'upload' AS kind, a.key AS item, a.attempts, a.last_error, a.last_at
FROM attempts a LEFT JOIN ledger l USING (key, etag, received_at) WHERE l.key IS NULL
UNION ALL
SELECT 'notice', n.json_key, n.delivery_attempts, n.delivery_error, n.created_at
FROM notices n WHERE n.sent_at IS NULL;
"""

EMAIL_RETRIES = """
-- an e-mail the server failed for now (down, timeout, 4xx) is tried again by later runs
ALTER TABLE notices ADD COLUMN email_attempts INTEGER DEFAULT 0;
ALTER TABLE notices ADD COLUMN email_retry_at TIMESTAMPTZ;
CREATE OR REPLACE VIEW v_pending_work AS
SELECT 'upload' AS kind, a.key AS item, a.attempts, a.last_error, a.last_at
FROM attempts a LEFT JOIN ledger l USING (key, etag, received_at) WHERE l.key IS NULL
UNION ALL
SELECT 'notice', n.json_key, n.delivery_attempts, n.delivery_error, n.created_at
FROM notices n WHERE n.sent_at IS NULL
UNION ALL
SELECT 'email', n.json_key, n.email_attempts, n.email_error, n.email_retry_at
FROM notices n WHERE n.email_retry_at IS NOT NULL AND n.emailed_at IS NULL;
"""

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("0001_core_tables", CORE),
    ("0002_analyst_views", ANALYST_VIEWS),
    ("0003_faults", FAULTS),
    ("0004_email_retries", EMAIL_RETRIES),
)


def applied(con: Any) -> list[str]:
    """Names of the migrations already applied, in order."""
    con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
    return [r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY applied_at, name").fetchall()]


def migrate(con: Any) -> list[str]:
    """Apply every pending migration, each in one transaction; return the names applied now.

    Callers hold the warehouse write lock, so two processes never migrate at once.
    """
    done = set(applied(con))
    now: list[str] = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO _migrations VALUES (?, current_timestamp)", [name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        now.append(name)
    return now
