"""The analysts' read-only copy of the warehouse, replaced atomically after every load.

A DuckDB file that a writer holds open cannot be opened by anyone else, even read-only, so
``nianbao query``, ``nianbao status`` and analysts' own DuckDB sessions read this snapshot
instead. The loader copies the checkpointed live file to a temporary name beside the snapshot
and renames it over the old one (:func:`os.replace` is atomic on POSIX): a reader opens either
the old complete copy or the new complete copy, and a session that already has the old one open
keeps reading it undisturbed (its inode lives on until it closes). The copy costs about a
second per few hundred MB, once per load, never per query.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nianbao.errors import TerminalError


def refresh(db: Path, snapshot: Path) -> None:
    """Copy ``db`` to ``snapshot`` atomically. Call only under the write lock with ``db`` closed."""
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    tmp = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(db, tmp)  # no fsync: the snapshot is derived; after a power loss, refresh again
        os.replace(tmp, snapshot)
    finally:
        tmp.unlink(missing_ok=True)


def ensure(db: Path, snapshot: Path) -> None:
    """Make sure a snapshot exists: from the live file, or a fresh empty warehouse if none yet."""
    if snapshot.exists():
        return
    from nianbao.warehouse.lock import write_connection

    with write_connection(db, snapshot=snapshot):
        pass


@contextmanager
def read_snapshot(db: Path, snapshot: Path) -> Iterator[Any]:
    """A read-only connection to the snapshot (created on first use); closed on exit.

    Close it promptly: DuckDB caches one instance per path per process, so a connection kept open
    across a refresh would keep answering from the old copy.
    """
    import duckdb

    ensure(db, snapshot)
    try:
        con = duckdb.connect(str(snapshot), read_only=True)
    except duckdb.Error as exc:
        raise TerminalError(f"cannot open warehouse snapshot {snapshot}: {exc}") from exc
    try:
        yield con
    finally:
        con.close()
