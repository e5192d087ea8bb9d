"""The analysts' snapshot: complete, replaced atomically, readable while it is replaced."""

from __future__ import annotations

from pathlib import Path

import duckdb

from nianbao.warehouse import Warehouse
from nianbao.warehouse.snapshot import refresh


def test_reading_creates_an_empty_warehouse_and_snapshot(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb", tmp_path / "w.snapshot.duckdb")
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM submissions").fetchall() == [(0,)]
    assert wh.path.exists() and wh.snapshot_path.exists()


def test_an_open_reader_keeps_its_copy_while_the_snapshot_is_replaced(tmp_path: Path) -> None:
    db, snap = tmp_path / "w.duckdb", tmp_path / "w.snapshot.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT 1 AS v")
    con.close()
    refresh(db, snap)
    reader = duckdb.connect(str(snap), read_only=True)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO t VALUES (2)")
    con.close()
    refresh(db, snap)
    assert reader.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
    reader.close()
    with duckdb.connect(str(snap), read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
    assert not list(tmp_path.glob(".*.tmp"))
