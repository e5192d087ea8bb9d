"""Named migrations: applied once, in order, recorded; the analyst-facing schema exists."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from nianbao.warehouse.lock import write_connection
from nianbao.warehouse.migrations import MIGRATIONS, applied, migrate

ANALYST = {"submissions", "reports", "cells", "findings", "notices", "loads", "current_cells",
           "v_applications_by_applicant", "v_outcome_mix", "v_review_litigation", "v_returned_by_rule",
           "v_agency_status"}


def test_fresh_file_gets_every_migration_once(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert migrate(con) == [name for name, _ in MIGRATIONS]
    assert migrate(con) == []
    assert applied(con) == [name for name, _ in MIGRATIONS]
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert names >= ANALYST
    con.close()


def test_write_connection_migrates_and_leaves_no_wal(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "w.duckdb"
    with write_connection(db) as con:
        assert len(applied(con)) == len(MIGRATIONS)
    assert db.exists() and not db.with_name(db.name + ".wal").exists()


def test_a_failing_migration_rolls_back_and_is_not_recorded(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import nianbao.warehouse.migrations as m

    monkeypatch.setattr(m, "MIGRATIONS", (*MIGRATIONS, ("9999_broken", "CREATE TABLE t_ok (a INT); SELECT nope;")))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(duckdb.Error):
        migrate(con)
    assert "9999_broken" not in applied(con)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "t_ok" not in tables
    con.close()


def test_an_existing_warehouse_is_upgraded_with_its_rows_kept(tmp_path: Path, upload,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import nianbao.warehouse.migrations as m
    from nianbao.warehouse.load import load_chunk
    from tests.warehouse.conftest import sample

    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    monkeypatch.setattr(m, "MIGRATIONS", MIGRATIONS[:2])  # the release before the faults migration
    migrate(con)
    load_chunk(con, [upload("inbox/cangtai/2023/r.txt", sample("cangtai-2023.txt"))], "old-load")
    monkeypatch.setattr(m, "MIGRATIONS", MIGRATIONS)
    assert migrate(con) == ["0003_faults", "0004_email_retries"]
    assert con.execute("SELECT count(*), min(delivery_attempts), min(email_attempts), count(email_retry_at) "
                       "FROM notices").fetchall() == [(1, 0, 0, 0)]
    assert con.execute("SELECT count(*) FROM submissions WHERE is_current").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM v_pending_work").fetchall() == [(1,)]  # its notice is unsent
    nullable = dict(con.execute("SELECT table_name, is_nullable FROM information_schema.columns "
                                "WHERE column_name = 'sha256' AND table_name IN ('ledger', 'uploads')").fetchall())
    assert nullable == {"ledger": "YES", "uploads": "YES"}
    con.close()
