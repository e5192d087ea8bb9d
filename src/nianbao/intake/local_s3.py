"""A throw-away S3-compatible server on 127.0.0.1 for the demo, the tests and the benchmark.

It is moto's S3 server (a dev dependency, in-memory, 0.75 s to start as a process). Two modes:

- ``process`` (default): ``python -m moto.server`` as a child process. The demo and the benchmark
  use it so the server does not compete with checking for this process's GIL.
- ``thread``: moto's ``ThreadedMotoServer`` in this process, ~3 ms to start; for tests.

Either way the pipeline talks to it over HTTP through boto3, exactly as it talks to AWS.
Credentials are arbitrary (moto accepts any); :data:`CREDENTIALS` are the conventional ones.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from nianbao.errors import TransientError

CREDENTIALS = ("test", "test")
Mode = Literal["process", "thread"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(endpoint: str, timeout: float = 20.0, alive: Callable[[], bool] | None = None) -> None:
    """Poll the server until it answers HTTP; raise TransientError after ``timeout`` seconds
    (or as soon as ``alive`` says the server process has died)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise TransientError(f"local S3 server for {endpoint} exited during start-up")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1.0) as r:  # noqa: S310
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:  # any HTTP answer means it is up
            if exc.code < 500:
                return
            last = exc
        except OSError as exc:
            last = exc
        time.sleep(0.05)
    raise TransientError(f"local S3 server at {endpoint} not ready after {timeout:.0f} s: {last}")


@dataclass
class LocalS3:
    """A running local S3 server; use as a context manager or call :meth:`stop`."""

    endpoint_url: str
    mode: Mode
    _proc: subprocess.Popen[bytes] | None = None
    _server: Any = None
    _log: Any = field(default=None, repr=False)

    @property
    def access_key(self) -> str:
        """The access key to use (moto accepts any)."""
        return CREDENTIALS[0]

    @property
    def secret_key(self) -> str:
        """The secret key to use (moto accepts any)."""
        return CREDENTIALS[1]

    @property
    def pid(self) -> int | None:
        """The server's process id in ``process`` mode."""
        return self._proc.pid if self._proc else None

    def stop(self) -> None:
        """Stop the server (terminate the child, or shut the thread's server down)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalS3:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def start(mode: Mode = "process", log_path: Path | None = None, timeout: float = 20.0) -> LocalS3:
    """Start a moto S3 server on a free 127.0.0.1 port and wait until it answers."""
    if mode == "thread":
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        port = server._server.server_port  # port 0 → the kernel's choice, no race
        local = LocalS3(f"http://127.0.0.1:{port}", mode, _server=server)
    else:
        port = free_port()
        log = open(log_path, "ab") if log_path else None  # noqa: SIM115 (closed in stop())
        env = {**os.environ, "DO_NOT_TRACK": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
            env=env, start_new_session=True,
        )
        local = LocalS3(f"http://127.0.0.1:{port}", mode, _proc=proc, _log=log)
    proc_ = local._proc
    try:
        wait_ready(local.endpoint_url, timeout, (lambda: proc_.poll() is None) if proc_ else None)
    except BaseException:
        local.stop()
        raise
    return local
