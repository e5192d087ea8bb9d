"""Hard crashes and concurrent pollers: every upload is loaded and answered exactly once.

Real processes (``python -m nianbao …``) against the test's S3 server and DuckDB file: one killed
with SIGKILL in the middle of a batch and then run again, and two ``watch`` loops polling the
same inbox while uploads arrive.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from nianbao.config import Settings
from nianbao.intake.store import S3Store
from nianbao.warehouse import Warehouse
from tests.e2e.fixtures import PYTHON, ROOT, SAMPLES, subprocess_env

pytestmark = pytest.mark.e2e
DATA = (SAMPLES / "qingshan-eco-2023-clean.txt").read_bytes()


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with Warehouse.from_settings(settings).read() as con:
        return con.execute(sql).fetchall()


def nianbao(settings: Settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([PYTHON, "-m", "nianbao", *args], cwd=ROOT, text=True, env=subprocess_env(settings),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (the parsing workers of an ingest).

    Read from every process's ``stat`` rather than ``/proc/<pid>/task/*/children``: the ingest's
    threads come and go, and a thread can vanish between listing and reading its file.
    """
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited while we looked
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def assert_each_upload_once(settings: Settings, store: S3Store, n: int) -> None:
    Warehouse.from_settings(settings).refresh_snapshot()
    assert rows(settings, "SELECT count(*), count(DISTINCT key), count(DISTINCT submission_id) FROM submissions") \
        == [(n, n, n)]
    assert rows(settings, "SELECT count(*), count(DISTINCT key) FROM ledger") == [(n, n)]
    assert rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NOT NULL") == [(n,)]
    assert rows(settings, "SELECT count(*) FROM v_pending_work") == [(0,)]
    outbox = [r.key for r in store.list("outbox/") if r.key.endswith(".json")]
    assert len(outbox) == len(set(outbox)) == n


def test_kill_9_in_the_middle_of_a_batch_then_a_rerun_loads_every_upload_once(settings: Settings,
                                                                             store: S3Store) -> None:
    n = 48
    for i in range(n):
        store.put(f"inbox/k{i:02d}/2023/r.txt", DATA + f"\n{i}\n".encode())
    ingest = nianbao(settings, "ingest", "--no-prefect")
    try:
        deadline = time.monotonic() + 120
        loaded = 0
        while time.monotonic() < deadline and ingest.poll() is None:
            loaded = rows(settings, "SELECT count(*) FROM submissions")[0][0]
            if loaded >= 8:  # at least two chunks (of 4) committed, many still to go
                break
            time.sleep(0.05)
        early = "" if ingest.poll() is None else (ingest.stderr.read() if ingest.stderr else "")[-2000:]
        assert ingest.poll() is None and 0 < loaded < n, f"ingest was not caught mid-batch ({loaded} loaded) {early}"
        workers = children(ingest.pid)
        assert workers, "the ingest had no parsing workers to check"
    finally:  # whatever happened above, nothing of this ingest may outlive the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(ingest.pid, signal.SIGKILL)
        ingest.wait(timeout=10)
    assert ingest.returncode == -signal.SIGKILL
    time.sleep(0.5)
    assert not [w for w in workers if alive(w)], "parsing workers outlived their killed parent"

    rerun = nianbao(settings, "ingest", "--no-prefect")
    out, err = rerun.communicate(timeout=240)
    assert rerun.returncode == 0, err[-2000:]
    assert_each_upload_once(settings, store, n)
    # the rerun answered only what the killed run had not committed
    first, second = rows(settings, "SELECT count(*) FROM submissions GROUP BY load_id ORDER BY min(seq)")
    assert first[0] + second[0] == n and first[0] >= loaded


def test_two_watch_loops_polling_at_once_load_each_upload_once(settings: Settings, store: S3Store) -> None:
    loops = [nianbao(settings, "watch", "--no-prefect", "--interval", "0.5") for _ in range(2)]
    try:
        n = 0
        for wave in range(3):  # uploads keep arriving while both loops poll
            for i in range(8):
                store.put(f"inbox/w{wave}{i}/2023/r.txt", DATA + f"\n{wave}-{i}\n".encode())
                n += 1
            time.sleep(1.0)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NOT NULL")[0][0] >= n:
                break
            assert all(p.poll() is None for p in loops), [p.stderr.read() for p in loops if p.stderr]
            time.sleep(0.5)
    finally:
        for p in loops:
            os.killpg(p.pid, signal.SIGINT)
        for p in loops:
            try:
                p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
    assert_each_upload_once(settings, store, n)
    runners = rows(settings, "SELECT count(DISTINCT runner) FROM loads WHERE submissions > 0")[0][0]
    assert runners >= 1
