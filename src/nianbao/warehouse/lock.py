"""Serialised, short-lived write access to the live DuckDB file.

DuckDB allows one writing process per file, and while a writer has it open no other process can
open it at all (not even read-only): a second opener fails at once with "Conflicting lock". So
every process that writes (ingest runs, the watcher, a second ingest someone started by hand)
takes an exclusive ``fcntl.flock`` on ``<db>.lock`` first, opens the file, does one short piece
of work, checkpoints, closes, and releases (measured: no errors, ~40 ms per open+close). Nobody
else opens the live file: analysts read the snapshot (:mod:`nianbao.warehouse.snapshot`).

duckdb's errors are translated here: a lock that stays busy and a file some foreign process holds
open become :class:`~nianbao.errors.TransientError` (retry later); anything else from DuckDB is a
:class:`~nianbao.errors.TerminalError`.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nianbao.errors import TerminalError, TransientError

DEFAULT_TIMEOUT = 120.0


def lock_path(db: Path) -> Path:
    """``<db>.lock`` beside the database file."""
    return db.with_name(db.name + ".lock")


@contextmanager
def file_lock(path: Path, timeout: float = DEFAULT_TIMEOUT, shared: bool = False) -> Iterator[None]:
    """Hold ``flock`` on ``path`` (created if missing); TransientError if not acquired in time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise TerminalError(f"cannot lock {path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise TransientError(
                        f"warehouse lock {path} still held after {timeout:.0f} s by another loader; retry later"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _connect(db: Path, deadline: float) -> Any:
    """Open ``db`` read-write, waiting out a foreign holder (someone opened the live file)."""
    import duckdb

    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(db))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise TerminalError(f"cannot open warehouse {db}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise TransientError(
                    f"warehouse {db} is held open by another process ({exc}); analysts should query "
                    "the snapshot (nianbao query) instead of the live file"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except duckdb.Error as exc:
            raise TerminalError(f"cannot open warehouse {db}: {exc}") from exc


@contextmanager
def write_connection(
    db: Path, timeout: float = DEFAULT_TIMEOUT, migrate: bool = True, snapshot: Path | None = None
) -> Iterator[Any]:
    """A read-write connection to ``db`` held under the write lock; checkpointed and closed on exit.

    The schema is brought up to date on every open (one cheap query when nothing is pending), so
    a fresh path becomes a working warehouse and a newer release migrates an older file. With
    ``snapshot``, the analysts' copy is refreshed after a successful close, still under the lock,
    so the copy never sees a half-written file.
    """
    import duckdb

    db.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(lock_path(db), timeout):
        con = _connect(db, time.monotonic() + timeout)
        try:
            if migrate:
                from nianbao.warehouse.migrations import migrate as apply

                apply(con)
            yield con
            con.execute("CHECKPOINT")  # fold the WAL in, so the file alone is a complete copy
        except duckdb.Error as exc:
            raise TerminalError(f"warehouse {db}: {type(exc).__name__}: {exc}") from exc
        finally:
            con.close()
        if snapshot is not None:
            from nianbao.warehouse.snapshot import refresh

            refresh(db, snapshot)
