"""The DuckDB warehouse: schema migrations, serialised loads, and the analysts' snapshot.

:class:`Warehouse` binds the live file and its snapshot together; the pipeline and the CLI use
it instead of opening DuckDB themselves. Importing this package does not import duckdb.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nianbao.warehouse.load import LoadOutcome, NoticeRecord, Submission, load_chunk
from nianbao.warehouse.lock import DEFAULT_TIMEOUT, write_connection

if TYPE_CHECKING:
    from nianbao.config import Settings
    from nianbao.uploads import FetchFailure

__all__ = ["LoadOutcome", "NoticeRecord", "Submission", "Warehouse"]


@dataclass(frozen=True)
class Warehouse:
    """The live DuckDB file (written only under the lock) and its read-only snapshot."""

    path: Path
    snapshot_path: Path
    lock_timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_settings(cls, settings: Settings) -> Warehouse:
        """The warehouse the settings point at."""
        return cls(Path(settings.warehouse), Path(settings.snapshot))

    @contextmanager
    def write(self, refresh_snapshot: bool = False) -> Iterator[Any]:
        """A short-lived write connection under the lock (see :mod:`nianbao.warehouse.lock`)."""
        snap = self.snapshot_path if refresh_snapshot else None
        with write_connection(self.path, self.lock_timeout, snapshot=snap) as con:
            yield con

    @contextmanager
    def read(self) -> Iterator[Any]:
        """A read-only connection to the snapshot; never blocks and is never blocked by a loader."""
        from nianbao.warehouse.snapshot import read_snapshot

        with read_snapshot(self.path, self.snapshot_path) as con:
            yield con

    def load(self, items: list[Submission], load_id: str, runner: str = "",
             failures: list[FetchFailure] | None = None) -> LoadOutcome:
        """Load one chunk in one transaction (see :func:`nianbao.warehouse.load.load_chunk`)."""
        with self.write() as con:
            return load_chunk(con, items, load_id, runner, failures)

    def refresh_snapshot(self) -> None:
        """Replace the analysts' snapshot with the current state of the live file."""
        with self.write(refresh_snapshot=True):
            pass

    def ledger(self, prefix: str = "") -> set[tuple[str, str, Any]]:
        """Identities of every upload already processed (exact: read from the live file)."""
        from nianbao.warehouse.queries import ledger_identities

        with self.write() as con:
            return ledger_identities(con, prefix)
