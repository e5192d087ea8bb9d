"""How fast `check` reads reports, and how fast the command starts. Not a test: prints numbers.

    python benchmarks/bench_check.py [--n 2000]

Throughput is measured in one process on one core over the text files in sample_inputs/ (each
read many times from memory, so disk speed does not count); start-up is the wall time of
`nianbao check FILE` as a fresh process, the median of several runs.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _files(kind: str) -> list[tuple[str, bytes]]:
    suffixes = {"text": (".txt", ".md"), "html": (".html", ".htm"), "docx": (".docx",), "xlsx": (".xlsx",),
                "pdf": (".pdf",)}[kind]
    return [(str(p), p.read_bytes()) for p in sorted((ROOT / "sample_inputs").rglob("*"))
            if p.suffix.lower() in suffixes and not p.name.endswith(".expected.json")]


def throughput(kind: str, n: int) -> tuple[float, int] | None:
    from nianbao.check import check_bytes

    files = _files(kind)
    if not files:
        return None
    for name, data in files:  # warm imports and caches
        check_bytes(data, name)
    start = time.perf_counter()
    for i in range(n):
        name, data = files[i % len(files)]
        check_bytes(data, name)
    elapsed = time.perf_counter() - start
    return n / elapsed, len(files)


def startup(runs: int = 7) -> float:
    target = str(ROOT / "sample_inputs" / "cangtai-2023.txt")
    exe = [sys.executable, "-m", "nianbao", "check", target]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(exe, capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="reports to check per format (text; others scaled down)")
    ap.add_argument("--formats", default="text,html,docx,xlsx,pdf")
    args = ap.parse_args()
    print(f"{'format':<6} {'files':>5} {'reports/s':>10}")
    scale = {"text": 1, "html": 1, "docx": 4, "xlsx": 4, "pdf": 40}
    for kind in args.formats.split(","):
        got = throughput(kind, max(10, args.n // scale[kind]))
        if got is None:
            print(f"{kind:<6} {0:>5} {'(no samples)':>10}")
            continue
        rate, nfiles = got
        print(f"{kind:<6} {nfiles:>5} {rate:>10.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    print(f"`nianbao check FILE` start-up + one file (median of 7): {startup():.3f} s")


if __name__ == "__main__":
    main()
