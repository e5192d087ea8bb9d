"""A separate process for the concurrency tests: load or query the warehouse in a loop.

``python -m tests.warehouse.worker load <data_dir> <tag> <n>``: load ``n`` uploads one chunk at a
time (half shared by every loader, half its own), refreshing the snapshot after each.
``python -m tests.warehouse.worker query <data_dir> <stop_file>``: query the snapshot as fast as
possible until ``stop_file`` exists; prints the number of queries and the row counts seen (which
must never decrease).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from nianbao.config import Settings
from nianbao.intake.registry import Registry
from nianbao.pipeline import process_one
from nianbao.warehouse import Warehouse
from tests.warehouse.conftest import T0, MemoryStore, sample


def load(data_dir: Path, tag: str, n: int) -> None:
    settings = Settings(data_dir=data_dir)
    wh = Warehouse.from_settings(settings)
    store = MemoryStore()
    data = sample("cangtai-2023.txt")
    for i in range(n):
        owner = "shared" if i % 2 == 0 else tag
        key = f"inbox/{owner}-{i}/2023/r.txt"
        store.put(key, data + f"\n{key}\n".encode(), when=T0 + timedelta(seconds=i))
        ref = store.head(key)
        assert ref is not None
        wh.load([process_one(store, ref, settings, Registry())], f"{tag}-{i}", tag)
        wh.refresh_snapshot()
    print("ok", flush=True)


def query(data_dir: Path, stop: Path) -> None:
    wh = Warehouse(data_dir / "nianbao.duckdb", data_dir / "nianbao.snapshot.duckdb")
    seen: list[int] = []
    while not stop.exists() or not seen:
        with wh.read() as con:
            seen.append(con.execute("SELECT count(*) FROM submissions").fetchall()[0][0])
    print(len(seen), " ".join(map(str, sorted(set(seen)))), flush=True)
    assert seen == sorted(seen), "a query saw fewer rows than an earlier one"


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "load":
        load(Path(args[0]), args[1], int(args[2]))
    else:
        query(Path(args[0]), Path(args[1]))
