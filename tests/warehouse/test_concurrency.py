"""Separate processes at once: two loaders, and a loader with an analyst querying.

DuckDB lets one process open a file for writing and then locks everybody else out, even readers;
the write lock serialises loaders and the snapshot keeps analysts' queries working meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from nianbao.errors import TransientError
from nianbao.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
N = 8


def spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), "DO_NOT_TRACK": "1"}
    return subprocess.Popen([sys.executable, "-m", "tests.warehouse.worker", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p: subprocess.Popen[str], timeout: float = 120) -> str:
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, err[-3000:]
    return out


def test_two_loaders_at_once_load_every_upload_exactly_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a, b = spawn("load", str(data), "a", str(N)), spawn("load", str(data), "b", str(N))
    assert finish(a).strip() == "ok" and finish(b).strip() == "ok"
    wh = Warehouse(data / "nianbao.duckdb", data / "nianbao.snapshot.duckdb")
    with wh.read() as con:
        # N/2 shared uploads (same key, bytes and time in both) once, plus N/2 own uploads per loader
        assert con.execute("SELECT count(*), count(DISTINCT key) FROM submissions").fetchall() == [(N + N // 2,) * 2]
        assert con.execute("SELECT count(*) FROM ledger").fetchall() == [(N + N // 2,)]
        assert con.execute("SELECT count(DISTINCT runner) FROM loads").fetchall() == [(2,)]


def test_queries_keep_working_while_a_loader_writes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Warehouse(data / "nianbao.duckdb", data / "nianbao.snapshot.duckdb").refresh_snapshot()
    stop = tmp_path / "stop"
    reader = spawn("query", str(data), str(stop))
    loader = spawn("load", str(data), "a", str(N))
    assert finish(loader).strip() == "ok"
    stop.touch()
    queries, *counts = finish(reader).split()
    assert int(queries) >= 2
    assert len(counts) > 1, "the reader should have seen loads land while it was querying"
    assert int(counts[-1]) <= N


def test_a_foreign_holder_of_the_live_file_makes_loading_transient(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb", tmp_path / "w.snapshot.duckdb", lock_timeout=1.0)
    wh.refresh_snapshot()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(wh.path)!r}); print('held', flush=True); "
                               "time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(TransientError, match="held open by another process"), wh.write():
            pass
        assert time.monotonic() - t0 >= 0.9
        with wh.read() as con:  # the snapshot is unaffected
            assert con.execute("SELECT count(*) FROM submissions").fetchall() == [(0,)]
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_file_serialises_writers_in_one_process_too(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb", tmp_path / "w.snapshot.duckdb", lock_timeout=0.3)
    with wh.write(), pytest.raises(TransientError, match="still held"), \
            Warehouse(wh.path, wh.snapshot_path, lock_timeout=0.3).write():
        pass
    with duckdb.connect(str(wh.path), read_only=True) as con:  # closed cleanly, lock released
        assert con.execute("SELECT count(*) FROM _migrations").fetchall()[0][0] >= 1
