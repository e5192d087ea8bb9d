"""Loading checked uploads: exactly once, supersede by time, atomic per chunk, bulk appends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nianbao.warehouse import Warehouse
from nianbao.warehouse.load import EMAIL_LEASE_SECONDS, claim_emails, mark_emailed, mark_sent, pending_notices
from tests.warehouse.conftest import sample

KEY = "inbox/nanling-housing/2023/report.md"


def q(wh: Warehouse, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with wh.write() as con:
        return con.execute(sql, params or []).fetchall()


def test_a_new_upload_lands_in_every_table_with_its_load_id(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    sub = upload(KEY, sample("nanling-housing-2023-faulty.md"))
    out = warehouse.load([sub], "L1", "test")
    assert out.new == [sub.submission_id] and out.rows > 200
    assert q(warehouse, "SELECT status, is_current, agency_id, year, load_id FROM submissions") == [
        ("returned", True, "nanling-housing", 2023, "L1")]
    rules = [r[0] for r in q(warehouse, 'SELECT rule FROM findings ORDER BY ordinal')]
    assert rules[:2] == ["S3-ROW-SUM", "S3-OUTCOME-SUM"]
    assert q(warehouse, "SELECT count(*), count(DISTINCT load_id) FROM cells")[0] == (len(sub.report.cells), 1)
    assert q(warehouse, "SELECT kind, sent_at FROM notices") == [("return", None)]
    assert q(warehouse, "SELECT title, template FROM reports")[0][1] == "2021"
    assert q(warehouse, "SELECT load_id, submissions, chunks FROM loads") == [("L1", 1, 1)]


def test_redelivery_of_the_same_upload_is_a_no_op(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    sub = upload(KEY, sample("cangtai-2023.txt"))
    warehouse.load([sub], "L1")
    again = warehouse.load([sub, sub], "L2")
    assert again.new == [] and again.duplicates == [sub.submission_id, sub.submission_id]
    assert q(warehouse, "SELECT count(*) FROM uploads")[0][0] == 1
    assert q(warehouse, "SELECT count(*) FROM ledger")[0][0] == 1


def test_reuploading_identical_bytes_records_the_object_but_no_new_submission(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    first = upload(KEY, sample("cangtai-2023.txt"))
    warehouse.load([first], "L1")
    same = upload(KEY, sample("cangtai-2023.txt"), minutes=5)
    out = warehouse.load([same], "L2")
    assert out.new == [] and out.unchanged == [first.submission_id]
    assert q(warehouse, "SELECT count(*) FROM uploads")[0][0] == 1
    assert q(warehouse, "SELECT submission_id FROM ledger ORDER BY received_at") == [(first.submission_id,)] * 2


def test_a_new_file_supersedes_and_history_is_kept(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    faulty = upload(KEY, sample("nanling-housing-2023-faulty.md"))
    warehouse.load([faulty], "L1")
    fixed = upload(KEY, sample("nanling-housing-2023-corrected.md"), minutes=10)
    warehouse.load([fixed], "L2")
    rows = q(warehouse, "SELECT submission_id, status, is_current, superseded_by FROM submissions ORDER BY seq")
    assert rows == [(faulty.submission_id, "returned", False, fixed.submission_id),
                    (fixed.submission_id, "accepted", True, None)]
    assert q(warehouse, "SELECT submission_id FROM reports") == [(fixed.submission_id,)]
    assert q(warehouse, "SELECT count(DISTINCT submission_id) FROM cells")[0][0] == 2


def test_an_older_upload_arriving_late_does_not_become_current(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    newer = upload("inbox/a/2023/b.md", sample("nanling-housing-2023-corrected.md"), minutes=10)
    older = upload("inbox/a/2023/a.md", sample("nanling-housing-2023-faulty.md"), minutes=0)
    warehouse.load([newer], "L1")
    warehouse.load([older], "L2")
    assert q(warehouse, "SELECT submission_id FROM submissions WHERE is_current") == [(newer.submission_id,)]


def test_reverting_to_an_earlier_file_is_a_new_submission(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    a1 = upload(KEY, sample("nanling-housing-2023-faulty.md"))
    b = upload(KEY, sample("nanling-housing-2023-corrected.md"), minutes=1)
    a2 = upload(KEY, sample("nanling-housing-2023-faulty.md"), minutes=2)
    warehouse.load([a1, b], "L1")
    out = warehouse.load([a2], "L2")
    assert out.new == [a2.submission_id] and a2.submission_id != a1.submission_id
    assert q(warehouse, "SELECT submission_id FROM submissions WHERE is_current") == [(a2.submission_id,)]


def test_one_chunk_keeps_one_current_per_agency_year(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    subs = [upload(f"inbox/a/2023/v{i}.txt", sample("cangtai-2023.txt").replace(b"2023", b"2023 ", i), minutes=i)
            for i in range(1, 4)]
    warehouse.load(subs, "L1")
    assert q(warehouse, "SELECT count(*) FILTER (WHERE is_current), count(*) FROM submissions") == [(1, 3)]
    assert q(warehouse, "SELECT submission_id FROM submissions WHERE is_current") == [(subs[-1].submission_id,)]


def test_a_key_outside_the_layout_is_recorded_but_never_current(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    sub = upload("inbox/cangtai/report.txt", sample("cangtai-2023.txt"))
    assert sub.status == "rejected" and sub.notice is not None and sub.notice.kind == "rejected"
    warehouse.load([sub], "L1")
    assert q(warehouse, "SELECT status, is_current, key_error IS NOT NULL FROM submissions") == [
        ("rejected", False, True)]
    assert q(warehouse, "SELECT count(*) FROM reports")[0][0] == 0


def test_a_crash_mid_load_leaves_nothing_behind(warehouse: Warehouse, upload, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import nianbao.warehouse.load as load_mod

    good = upload(KEY, sample("cangtai-2023.txt"))
    real = load_mod.rows_for

    def broken(*args: Any, **kwargs: Any) -> Any:
        tables = real(*args, **kwargs)
        tables["findings"] = (tables["findings"][0], [("boom",)])  # wrong arity: the appender fails late
        return tables

    monkeypatch.setattr(load_mod, "rows_for", broken)
    with pytest.raises(Exception):  # noqa: B017 (any driver error)
        warehouse.load([good], "L1")
    for table in ("uploads", "cells", "report_docs", "report_sections", "ledger", "notices", "loads", "findings"):
        assert q(warehouse, f"SELECT count(*) FROM {table}")[0][0] == 0, table
    monkeypatch.setattr(load_mod, "rows_for", real)
    assert warehouse.load([good], "L2").new == [good.submission_id]


def test_notices_are_pending_until_marked_sent(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    sub = upload(KEY, sample("cangtai-2023.txt"))
    warehouse.load([sub], "L1")
    with warehouse.write() as con:
        (pending,) = pending_notices(con)
        assert pending["json_key"] == f"outbox/nanling-housing/2023/{sub.submission_id}.json"
        mark_sent(con, [(sub.submission_id, datetime.now(UTC), None, None, None, 0)])
        assert pending_notices(con) == []


def test_an_email_retry_is_claimed_by_one_run_only(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    sub = upload(KEY, sample("cangtai-2023.txt"))
    warehouse.load([sub], "L1")
    now = datetime.now(UTC)
    with warehouse.write() as con:
        mark_sent(con, [(sub.submission_id, now, None, "smtp down", now + timedelta(seconds=60), 1)])
        assert claim_emails(con, 5, now) == []  # not due yet
        (due,) = claim_emails(con, 5, now + timedelta(seconds=61))
        assert (due["submission_id"], due["email_attempts"]) == (sub.submission_id, 1)
        assert claim_emails(con, 5, now + timedelta(seconds=62)) == []  # claimed: a second deliverer skips it
        later = now + timedelta(seconds=61 + 2 * EMAIL_LEASE_SECONDS + 1)
        assert len(claim_emails(con, 5, later)) == 1  # the claiming run died: due again after the lease
        assert claim_emails(con, 1, later + timedelta(hours=1)) == []  # no tries left
        mark_emailed(con, [(sub.submission_id, later, None, None)])
        assert claim_emails(con, 5, later + timedelta(hours=1)) == []
        assert con.execute("SELECT email_attempts, emailed_at IS NOT NULL, email_retry_at FROM notices"
                           ).fetchall() == [(2, True, None)]


def test_restoring_two_files_of_one_agency_year_changes_nothing(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    """A bucket re-seeded with both of an agency-year's files: each is the same upload of its key."""
    a = upload("inbox/a/2023/a.md", sample("nanling-housing-2023-faulty.md"))
    b = upload("inbox/a/2023/b.md", sample("nanling-housing-2023-corrected.md"), minutes=1)
    warehouse.load([a, b], "L1")
    again = [upload("inbox/a/2023/a.md", sample("nanling-housing-2023-faulty.md"), minutes=60),
             upload("inbox/a/2023/b.md", sample("nanling-housing-2023-corrected.md"), minutes=60)]
    out = warehouse.load(again, "L2")
    assert out.new == [] and sorted(out.unchanged) == sorted([a.submission_id, b.submission_id])
    assert q(warehouse, "SELECT submission_id FROM submissions WHERE is_current") == [(b.submission_id,)]


def test_an_unchecked_upload_whose_agency_year_changed_meanwhile_is_deferred(warehouse: Warehouse, upload) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    first = upload(KEY, sample("nanling-housing-2023-faulty.md"))
    skipped = replace(upload("inbox/nanling-housing/2023/other.md", sample("nanling-housing-2023-corrected.md"),
                             minutes=5), result=None, report=None, notice=None)
    warehouse.load([first], "L1")
    out = warehouse.load([skipped], "L2")
    assert out.deferred == ["inbox/nanling-housing/2023/other.md"] and out.new == []
    assert q(warehouse, "SELECT count(*) FROM ledger") == [(1,)]  # found again by the next poll
