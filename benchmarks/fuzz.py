"""Mutation fuzzing of the readers for minutes or hours. Not a test: prints numbers, saves crashes.

    python benchmarks/fuzz.py --minutes 20 --format all --seed 1 [--out fuzz-findings/]

Takes the real files of each format (``sample_inputs/`` and ``../shared/corpus/real/`` when present),
mutates them with the mutators of ``tests/helpers/mutate.py`` (the ones ``tests/parsing/test_fuzz.py``
uses), and checks each mutant with ``check_bytes`` in a worker process. A mutant is a crash when the
check raises, answers with the reader-bug reason (「内部错误」), returns a malformed result, takes
longer than ``--time-limit`` seconds, or kills or hangs the worker (``--hang-limit``). Each crash
is saved to ``--out`` as ``<format>-<n>.<ext>`` with a ``.json`` beside it (mutations, problems),
so ``check_bytes(open(path, "rb").read(), path)`` reproduces it.

Printed at the end: inputs run per format, inputs per second, crashes found, the slowest input
and the worker's peak RSS. ``--replay FILE...`` checks saved inputs in the same kind of worker
instead (a crash that only shows there, not in a plain ``check_bytes`` call, is about the worker's
state or limits).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import random
import resource
import signal
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.helpers.mutate import FORMATS, mutate, run_check, seed_files  # noqa: E402

_EXT = {"text": ".txt", "html": ".html", "docx": ".docx", "xlsx": ".xlsx", "pdf": ".pdf"}


def _worker(conn: Connection, time_limit: float, memory_mb: int) -> None:
    """Check inputs sent down ``conn`` until it closes; answer each with its outcome and the peak RSS.

    The address space is capped so that a runaway allocation is a quick ``MemoryError`` (a crash the
    oracle reports) rather than a machine swapping until the OOM killer picks a process.
    """
    import logging
    import warnings

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    logging.disable(logging.WARNING)  # pdfminer logs every damaged stream
    warnings.simplefilter("ignore")  # openpyxl warns about every odd value
    from nianbao.check import check_bytes

    check_bytes(b"warm up", "x.txt")
    while True:
        try:
            data, name = conn.recv()
        except EOFError:
            return
        outcome = run_check(data, name, time_limit)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send((outcome.seconds, outcome.status, outcome.problems, rss))


class Worker:
    """A worker process, replaced when it dies or hangs."""

    def __init__(self, time_limit: float, memory_mb: int) -> None:
        self.time_limit = time_limit
        self.memory_mb = memory_mb
        self.peak_rss = 0.0
        self._start()

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, self.time_limit, self.memory_mb), daemon=True)
        self.proc.start()
        child.close()

    def check(self, data: bytes, name: str, hang_limit: float) -> tuple[float, str, list[str]]:
        start = time.perf_counter()
        self.conn.send((data, name))
        if not self.conn.poll(hang_limit):
            self.restart()
            return time.perf_counter() - start, "", [f"hung: no answer within {hang_limit:.0f} s"]
        try:
            seconds, status, problems, rss = self.conn.recv()
        except (EOFError, ConnectionError):
            code = self.proc.exitcode
            self.restart()
            return time.perf_counter() - start, "", [f"worker died (exit code {code})"]
        self.peak_rss = max(self.peak_rss, rss)
        return seconds, status, problems

    def restart(self) -> None:
        self.proc.kill()
        self.proc.join(10)
        self._start()

    def close(self) -> None:
        self.conn.close()
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


@dataclass
class Stats:
    inputs: int = 0
    seconds: float = 0.0
    crashes: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    slowest: tuple[float, str] = (0.0, "")


def replay(paths: list[Path], args: argparse.Namespace) -> None:
    worker = Worker(args.time_limit, args.memory_mb)
    try:
        for path in paths:
            seconds, status, problems = worker.check(path.read_bytes(), path.name, args.hang_limit)
            print(f"{path.name}: {status or 'crash'} in {seconds:.2f} s {problems[0].splitlines()[0] if problems else ''}")
    finally:
        worker.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--format", default="all", help="all, or a comma-separated list of " + ", ".join(FORMATS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "fuzz-findings")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds one input may take")
    ap.add_argument("--hang-limit", type=float, default=120.0, help="seconds before the worker is killed")
    ap.add_argument("--memory-mb", type=int, default=4096, help="address-space limit of the worker")
    ap.add_argument("--no-real", action="store_true", help="only sample_inputs/, not ../shared/corpus/real/")
    ap.add_argument("--replay", type=Path, nargs="+", help="check these saved inputs instead of fuzzing")
    args = ap.parse_args()
    if args.replay:
        replay(args.replay, args)
        return

    formats = FORMATS if args.format == "all" else tuple(args.format.split(","))
    seeds = {fmt: seed_files(fmt, include_real=not args.no_real) for fmt in formats}
    for fmt, files in seeds.items():
        if not files:
            sys.exit(f"no seed files for {fmt}")
        print(f"{fmt}: {len(files)} seed files", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    stats = {fmt: Stats() for fmt in formats}
    worker = Worker(args.time_limit, args.memory_mb)
    deadline = time.monotonic() + args.minutes * 60
    stop: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):  # stop early but still print the numbers
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    started = time.monotonic()
    n = 0
    try:
        while time.monotonic() < deadline and not stop:
            fmt = formats[n % len(formats)]
            n += 1
            name, data = rng.choice(seeds[fmt])
            case_seed = rng.getrandbits(64)
            mutant, applied = mutate(data, fmt, random.Random(case_seed))
            seconds, status, problems = worker.check(mutant, name, args.hang_limit)
            s = stats[fmt]
            s.inputs += 1
            s.seconds += seconds
            s.statuses[status or "crash"] = s.statuses.get(status or "crash", 0) + 1
            if seconds > s.slowest[0]:
                s.slowest = (seconds, f"{name} {'+'.join(applied)}")
            if problems:
                s.crashes += 1
                digest = hashlib.sha1(mutant).hexdigest()[:10]
                path = args.out / f"{fmt}-{digest}{Path(name).suffix or _EXT[fmt]}"
                path.write_bytes(mutant)
                meta = {"seed_file": name, "case_seed": case_seed, "mutations": applied, "seconds": seconds,
                        "problems": problems}  # fmt: skip
                path.with_name(path.name + ".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))
                print(f"CRASH {path.name}: {problems[0].splitlines()[0][:200]}", flush=True)
            if n % 500 == 0:
                done = sum(x.inputs for x in stats.values())
                print(f"... {done} inputs, {done / (time.monotonic() - started):.1f}/s, "
                      f"{sum(x.crashes for x in stats.values())} crashes", flush=True)  # fmt: skip
    finally:
        worker.close()
    elapsed = time.monotonic() - started
    total = sum(s.inputs for s in stats.values())
    print(f"\n{total} inputs in {elapsed / 60:.1f} min ({total / elapsed:.1f}/s), seed {args.seed}")
    print(f"{'format':8s} {'inputs':>7s} {'per s':>6s} {'crashes':>7s} {'slowest s':>9s}  statuses / slowest input")
    for fmt, s in stats.items():
        rate = s.inputs / s.seconds if s.seconds else 0.0
        print(f"{fmt:8s} {s.inputs:7d} {rate:6.1f} {s.crashes:7d} {s.slowest[0]:9.2f}  {s.statuses} / {s.slowest[1]}")
    print(f"crashes: {sum(s.crashes for s in stats.values())} (saved in {args.out})")
    print(f"peak RSS of the worker: {worker.peak_rss:.0f} MB")


if __name__ == "__main__":
    main()
