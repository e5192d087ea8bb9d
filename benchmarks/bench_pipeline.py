"""Benchmark the ingest pipeline: N generated uploads on a local moto S3 server, plain vs Prefect.

    PYTHONPATH=src:. python benchmarks/bench_pipeline.py --n 1000 [--chunk-size 100]

Steps: start a moto server (a separate process, so it does not share this GIL), generate N reports
from ``sample_inputs/cangtai-2023.txt`` (each with its own agency id and a line of its own, so
every sha256 differs), upload them to two buckets, then ingest each bucket in a fresh child
process: once with the plain pipeline, once with the ``ingest`` flow (Prefect ephemeral mode, warmed
up first so the one-off server start is reported separately). Prints uploads/s, Prefect's
orchestration overhead (flow wall time against the plain work measured inside it, and against the
plain run's wall time) and each child's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

SEED = ROOT / "sample_inputs" / "cangtai-2023.txt"


def generate(i: int) -> tuple[str, bytes]:
    """The key and bytes of generated upload ``i``: the seed with a line naming its agency."""
    agency = f"agency-{i:05d}"
    text = SEED.read_text(encoding="utf-8") + f"\n（本报告由{agency}报送，编号{i}。）\n"
    return f"inbox/{agency}/2023/report.txt", text.encode("utf-8")


def settings_for(endpoint: str, bucket: str, data_dir: Path, chunk_size: int) -> Any:
    from nianbao.config import Settings

    return Settings(data_dir=data_dir, chunk_size=chunk_size,
                    s3={"endpoint_url": endpoint, "bucket": bucket, "access_key_id": "test",
                        "secret_access_key": "test"})


def child(mode: str, endpoint: str, bucket: str, data_dir: Path, chunk_size: int) -> dict[str, Any]:
    """Ingest one bucket in this process; return timings and peak RSS."""
    settings = settings_for(endpoint, bucket, data_dir, chunk_size)
    out: dict[str, Any] = {"mode": mode}
    if mode == "plain":
        from nianbao import pipeline

        t0 = time.perf_counter()
        summary = pipeline.run_ingest(settings, runner="bench")
        out["wall"] = time.perf_counter() - t0
    else:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        from flows.ingest import ingest

        config = {"data_dir": str(data_dir), "chunk_size": chunk_size,
                  "s3": {"endpoint_url": endpoint, "bucket": bucket}}
        t0 = time.perf_counter()
        ingest(keys=["inbox/none/2000/warm-up"], config=config)  # first flow run: starts the local server
        out["first_flow_run"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = ingest(config=config)
        out["wall"] = time.perf_counter() - t0
    out.update({k: summary[k] for k in ("uploads", "new", "notices", "chunks", "select_seconds", "check_seconds",
                                        "load_seconds", "deliver_seconds")})
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_child(mode: str, endpoint: str, bucket: str, data_dir: Path, chunk_size: int) -> dict[str, Any]:
    (data_dir / "prefect-home").mkdir(parents=True, exist_ok=True)  # Prefect does not create it
    env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_HOME": str(data_dir / "prefect-home"), "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    cmd = [sys.executable, __file__, "--child", mode, "--endpoint", endpoint, "--bucket", bucket,
           "--data-dir", str(data_dir), "--chunk-size", str(chunk_size)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{p.stderr[-4000:]}")
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--chunk-size", type=int, default=100)
    ap.add_argument("--modes", default="plain,prefect")
    ap.add_argument("--child")
    ap.add_argument("--endpoint")
    ap.add_argument("--bucket")
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.endpoint, args.bucket, args.data_dir, args.chunk_size)))
        return

    from nianbao.intake import local_s3
    from nianbao.intake.store import S3Store

    modes = args.modes.split(",")
    with local_s3.start("process") as server, tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        results = []
        for mode in modes:
            s = settings_for(server.endpoint_url, f"bench-{mode}", Path(tmp) / mode, args.chunk_size)
            store = S3Store.from_settings(s)
            store.ensure_bucket()
            t0 = time.perf_counter()
            for i in range(args.n):
                store.put(*generate(i), "text/plain")
            print(f"[{mode}] uploaded {args.n} files in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            results.append(run_child(mode, server.endpoint_url, f"bench-{mode}", Path(tmp) / mode, args.chunk_size))
    report(results, args.n)


def report(results: list[dict[str, Any]], n: int) -> None:
    by = {r["mode"]: r for r in results}
    print(f"{'mode':8} {'uploads':>7} {'wall s':>7} {'uploads/s':>9} {'list s':>7} {'check s':>8} {'load s':>7} "
          f"{'notice s':>8} {'peak RSS MB':>11}")
    for r in results:
        assert r["new"] == n, r
        print(f"{r['mode']:8} {r['uploads']:7d} {r['wall']:7.1f} {r['uploads'] / r['wall']:9.1f} {r['select_seconds']:7.1f} "
              f"{r['check_seconds']:8.1f} {r['load_seconds']:7.1f} {r['deliver_seconds']:8.1f} {r['peak_rss_mb']:11.0f}")
    if "prefect" in by:
        p = by["prefect"]
        work = p["select_seconds"] + p["check_seconds"] + p["load_seconds"] + p["deliver_seconds"]
        print(f"prefect: first flow run of the process (ephemeral server start) {p['first_flow_run']:.1f} s, "
              f"{p['chunks']} task runs")
        print(f"orchestration overhead vs the plain work measured inside the flow: {100 * (p['wall'] - work) / work:.1f}% "
              f"({p['wall'] - work:.2f} s: one flow run, {p['chunks'] + 1} task runs besides the select task)")
        if "plain" in by:
            print(f"orchestration overhead vs the plain pipeline's wall time: "
                  f"{100 * (p['wall'] / by['plain']['wall'] - 1):.1f}%")


if __name__ == "__main__":
    main()
