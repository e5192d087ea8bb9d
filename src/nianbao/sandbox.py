"""Parse untrusted files in worker processes, each file under a time and a memory limit.

Why: the readers sit on native code (libxml2, PDFium, zlib) fed by strangers' files. A file that
makes one of them loop, swallow memory or crash must cost that file its answer (``PARSE-FAILED``
with a reason the agency can act on), never the process that checks everybody else's files.

How: a worker is a spawned process that reads ``(bytes, name)`` from a pipe, parses, and sends
back the :class:`~nianbao.model.report.Report` or the refusal reason. Its address space is capped
with ``RLIMIT_AS``; the parent waits at most ``timeout`` seconds for an answer. A worker that
times out, dies (a signal, the OOM killer) or hit ``MemoryError`` is killed and replaced by a new
one on the next file. Workers are started on first use and kept, so the ~0.2 s start-up is paid
once per worker, not per file; parsing a report costs ~1 ms more than in-process (pickling).

The rules run in the caller's process: they are plain Python over the parsed cells, and the
context rules need the caller's warehouse lookups.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import TYPE_CHECKING

from nianbao.errors import ParseFailed, TerminalError

if TYPE_CHECKING:
    from nianbao.check import CheckContext
    from nianbao.model.report import CheckResult, Report

START_TIMEOUT = 60.0
PARSE = "nianbao.check:parse_outcome"
"""What a worker runs on each file (``module:function``); tests substitute readers that misbehave."""

MSG_TIMEOUT = "文件处理超时（超过 {seconds:g} 秒仍未读完），文件可能已损坏或结构异常；请另存为 PDF 或 DOCX 后重新上传"
MSG_MEMORY = "文件过于庞大或结构异常，读取时超出内存上限（{mb} MB）；请精简文件（如压缩图片、删除无关内容）后重新上传"
MSG_CRASHED = "读取文件时解析程序异常退出，文件可能已损坏；请另存为 PDF 或 DOCX 后重新上传"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file may cost a worker."""

    timeout: float = 60.0
    """Seconds of wall time to read one file (real reports take 0.01-2 s; a 200-page PDF ~20 s)."""
    memory_mb: int = 2048
    """Address-space cap of a worker; a worker idles at ~150 MB of it."""


class Sandbox:
    """A small pool of parsing workers; thread-safe, so ``workers`` threads can use it at once."""

    def __init__(self, workers: int = 1, limits: Limits | None = None, target: str = PARSE) -> None:
        self.limits = limits or Limits()
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(max(1, workers)):
            w = _Worker(self.limits, target)
            self._all.append(w)
            self._idle.put(w)

    @property
    def workers(self) -> int:
        """How many files can be parsed at once."""
        return len(self._all)

    def parse(self, data: bytes, source: str) -> Report | ParseFailed:
        """The report in ``data``, or why it cannot be read (never raises for a bad file)."""
        if self._closed:
            raise RuntimeError("sandbox is closed")
        worker = self._idle.get()
        try:
            return worker.parse(data, source)
        finally:
            self._idle.put(worker)

    def check(self, data: bytes, source: str, context: CheckContext | None = None) -> tuple[Report | None, CheckResult]:
        """Like :func:`nianbao.check.check_bytes`, with the parsing done in a worker."""
        from nianbao.check import check_outcome

        return check_outcome(self.parse(data, source), source, context)

    def close(self) -> None:
        """Stop every worker (idempotent)."""
        with self._lock:
            self._closed = True
            for w in self._all:
                w.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _Worker:
    """One worker process and the parent's end of its socket; (re)started lazily.

    A plain ``python -m nianbao.sandbox`` child rather than ``multiprocessing``: spawning through
    multiprocessing re-imports the caller's ``__main__``, which breaks any script without a
    ``__main__`` guard, and forking a process that runs threads (Prefect, boto3) is unsafe.
    """

    def __init__(self, limits: Limits, target: str) -> None:
        self._limits = limits
        self._target = target
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> Connection:
        ours, theirs = socket.socketpair()
        with theirs:
            env = worker_environment()
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "nianbao.sandbox", str(theirs.fileno()), str(self._limits.memory_mb),
                 self._target],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True, env=env,
            )
        self._conn = conn = Connection(ours.detach())
        # the time limit is for reading a file, not for starting Python and importing the readers
        try:
            ready = conn.poll(START_TIMEOUT) and conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop()
            raise TerminalError(f"the parsing worker did not start within {START_TIMEOUT:g} s")
        return conn

    def parse(self, data: bytes, source: str) -> Report | ParseFailed:
        conn = self._conn if self._proc is not None and self._proc.poll() is None else None
        if conn is None:
            self.stop()
            conn = self._start()
        try:
            conn.send((data, source))
            if not conn.poll(self._limits.timeout):
                self._discard(stuck=True)
                return ParseFailed(MSG_TIMEOUT.format(seconds=self._limits.timeout), f"timeout after {self._limits.timeout}s")
            kind, payload = conn.recv()
        except (EOFError, OSError):  # the worker died mid-file: a native crash or the OOM killer
            code = self._discard()
            if code == -signal.SIGKILL:
                return ParseFailed(MSG_MEMORY.format(mb=self._limits.memory_mb), "worker killed (SIGKILL)")
            return ParseFailed(MSG_CRASHED, f"worker exited with {code}")
        if kind == "memory":
            self._discard()
            return ParseFailed(MSG_MEMORY.format(mb=self._limits.memory_mb), "MemoryError")
        return payload  # type: ignore[no-any-return]

    def _discard(self, stuck: bool = False) -> int | None:
        """Kill the worker (stuck, dead or unreliable) and return its exit status; the next file
        starts a fresh one."""
        code = None
        if self._proc is not None:
            if stuck:
                self._proc.kill()
            try:  # a worker that just died may not be reaped yet
                code = self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
        self.stop()
        self.restarts += 1
        return code

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=5)
        self._proc = self._conn = None


_SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN", "CREDENTIAL", "KEY")


def worker_environment() -> dict[str, str]:
    """The environment a worker starts with: this process's, minus every credential.

    A worker runs native code on strangers' files; if one ever turned a reader bug into code
    execution, it should find no S3, SMTP or Prefect credentials to steal. The import path is
    passed on so the child imports exactly what this process can (a source checkout, flows/).
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "NIANBAO_", "PREFECT_API")) and not any(w in k.upper() for w in _SECRET_WORDS)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def serve(conn: Connection, memory_mb: int, target: str = PARSE) -> None:
    """Worker loop: parse each ``(bytes, name)`` received with ``target`` (``module:function``),
    answer ``(kind, Report | ParseFailed)``."""
    import resource
    from importlib import import_module

    from nianbao.parsing import preload_readers

    module, _, name = target.partition(":")
    parse_outcome = getattr(import_module(module), name)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if memory_mb > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    preload_readers()
    conn.send("ready")
    while True:
        try:
            data, source = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        try:
            outcome = parse_outcome(data, source)
            del data
            conn.send(("ok", outcome))
        except MemoryError:
            # state after a MemoryError is not trustworthy: answer, then let the parent replace us
            conn.send(("memory", None))
            return


def default_workers() -> int:
    """One worker per core (parsing is CPU-bound), at least one, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), int(sys.argv[2]), sys.argv[3])
