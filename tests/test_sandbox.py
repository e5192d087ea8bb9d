"""Parsing in worker processes: same answers as in-process, and a file that hangs, exhausts memory
or crashes its reader costs only its own answer (readers that misbehave on cue come from
``tests.helpers.misbehave``; the workers, limits and pipes are the real ones)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from nianbao.check import check_bytes
from nianbao.errors import ParseFailed
from nianbao.model.report import Report
from nianbao.sandbox import MSG_CRASHED, Limits, Sandbox
from tests.helpers import misbehave

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p for p in (ROOT / "sample_inputs").iterdir() if not p.name.endswith(".json"))
SEED = (ROOT / "sample_inputs" / "cangtai-2023.txt").read_bytes()


def test_isolated_results_equal_in_process_results_for_every_sample() -> None:
    with Sandbox(2) as sb:
        for path in SAMPLES:
            data = path.read_bytes()
            assert sb.check(data, path.name)[1] == check_bytes(data, path.name)[1], path.name


def test_a_reader_that_hangs_is_stopped_at_the_time_limit_and_the_next_file_is_read() -> None:
    with Sandbox(1, Limits(timeout=0.5), target=misbehave.TARGET) as sb:
        assert isinstance(sb.parse(SEED, "first.txt"), Report)
        t0 = time.monotonic()
        hung = sb.parse(misbehave.HANG + SEED, "hang.txt")
        assert 0.5 <= time.monotonic() - t0 < 2.5  # the stuck worker is killed, not waited for
        assert isinstance(hung, ParseFailed)
        assert "超时" in hung.reason and "0.5 秒" in hung.reason
        assert isinstance(sb.parse(SEED, "next.txt"), Report)


def test_a_reader_that_exhausts_memory_is_answered_and_the_next_file_is_read() -> None:
    with Sandbox(1, Limits(timeout=60, memory_mb=400), target=misbehave.TARGET) as sb:
        big = sb.parse(misbehave.HOG + SEED, "hog.txt")
        assert isinstance(big, ParseFailed)
        assert "内存上限（400 MB）" in big.reason
        assert isinstance(sb.parse(SEED, "next.txt"), Report)


@pytest.mark.parametrize("cue", [misbehave.SEGV, misbehave.EXIT])
def test_a_reader_crash_costs_only_that_file(cue: bytes) -> None:
    with Sandbox(1, target=misbehave.TARGET) as sb:
        assert isinstance(sb.parse(SEED, "first.txt"), Report)
        pid = sb._all[0].pid
        crashed = sb.parse(cue + SEED, "crashing.txt")
        assert isinstance(crashed, ParseFailed) and crashed.reason == MSG_CRASHED
        after = sb.parse(SEED, "next.txt")
        assert isinstance(after, Report) and after.meta.agency == "苍台镇人民政府"
        assert sb._all[0].pid != pid


def test_a_real_worker_killed_mid_file_is_replaced() -> None:
    with Sandbox(1) as sb:  # the production parser; the worker is stopped, then crashes
        assert isinstance(sb.parse(SEED, "first.txt"), Report)
        pid = sb._all[0].pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        threading.Timer(0.3, lambda: (os.kill(pid, signal.SIGSEGV), os.kill(pid, signal.SIGCONT))).start()
        crashed = sb.parse(SEED, "crashing.txt")
        assert isinstance(crashed, ParseFailed) and crashed.reason == MSG_CRASHED
        assert isinstance(sb.parse(SEED, "next.txt"), Report)


def test_workers_parse_in_parallel_from_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    files = [(p.read_bytes(), p.name) for p in SAMPLES] * 2
    with Sandbox(2) as sb, ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda f: sb.check(*f)[1].status, files))
    assert got == [check_bytes(*f)[1].status for f in files]


def test_closing_stops_every_worker() -> None:
    sb = Sandbox(2)
    sb.parse(SEED, "a.txt")
    pid = sb._all[0].pid
    sb.close()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # reaped by close(); give the kernel a moment
            os.kill(pid, 0)
            time.sleep(0.1)
    with pytest.raises(RuntimeError):
        sb.parse(SEED, "b.txt")


def test_workers_start_without_any_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "nb-worker-secret-91c2"
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "NIANBAO_S3__SECRET_ACCESS_KEY",
                 "NIANBAO_SMTP__PASSWORD", "PREFECT_API_KEY", "SOME_SERVICE_TOKEN"):
        monkeypatch.setenv(name, secret)
    with Sandbox(1) as sb:
        assert isinstance(sb.parse(SEED, "first.txt"), Report)
        pid = sb._all[0].pid
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert secret.encode() not in environ
    assert b"PYTHONPATH=" in environ
