"""Soak: thousands of uploads through real processes while S3 misbehaves and an ingest is killed.

    python benchmarks/soak.py [--uploads 2000] [--seed 7] [--chunk-size 50] [--prefect] [--keep DIR]

What it does (a moto S3 server as a child process; the fault proxy between the pipeline and it):

1. Uploads wave 1 (three quarters of ``--uploads``): every sample in ``sample_inputs/`` (text,
   Markdown, HTML, DOCX, XLSX, PDF; accepted, returned and unreadable ones) spread over one agency
   each, plus broken and hostile files (empty, random bytes, truncated DOCX, an old ``.doc``, a
   1 GB zip bomb, HTML nested 200,000 deep, UTF-16 text), files over the size limit, keys outside
   the layout, and a few "poison" keys whose every GET fails.
2. Runs ``nianbao ingest`` as a child process through the proxy (``--no-prefect``, the plain
   pipeline, unless ``--prefect``: then the Prefect flow on its ephemeral server, which the kill
   takes down with it), which injects 5xx and throttling
   answers, connection resets (some after the bucket applied a PUT), bodies cut off mid-way and
   slow answers, and kills that ingest with SIGKILL part-way through; then reruns ingest until a
   run has nothing left to do.
3. Uploads wave 2: new uploads plus corrected re-uploads over wave-1 keys (a faulty report
   replaced by its corrected version), and ingests again until done.
4. Checks the invariants and prints the counts: every upload version has exactly one ledger row
   and one final state; every submission exactly one notice, written, under its own agency's
   outbox (JSON and Markdown); no duplicate submissions, ledger rows or notice objects; the same
   bytes got the same status everywhere; nothing pending. Exit status 1 if any invariant fails.

This is a benchmark-style script, not a test: it takes minutes and prints what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.helpers import hostile  # noqa: E402
from tests.helpers.fault_proxy import FaultProxy, Rule  # noqa: E402

from nianbao.config import Settings  # noqa: E402
from nianbao.intake import local_s3  # noqa: E402
from nianbao.intake.store import S3Store  # noqa: E402

SAMPLES = ROOT / "sample_inputs"
MAX_UPLOAD_MB = 1.0
UPLOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class Upload:
    key: str
    data: bytes
    kind: str
    """What the file is, for the report: the sample's name, or the kind of broken file."""


def sample_files() -> list[tuple[str, bytes, int]]:
    """``(name, bytes, year)`` of every sample, the year being the report's own (or 2023)."""
    out = []
    for p in sorted(SAMPLES.iterdir()):
        if p.name.endswith(".expected.json"):
            continue
        expected = json.loads((SAMPLES / f"{p.name}.expected.json").read_text(encoding="utf-8"))
        out.append((p.name, p.read_bytes(), int(expected.get("year") or 2023)))
    return out


def broken_files(rng: random.Random) -> list[tuple[str, bytes]]:
    """Files that must be answered ``failed`` (or read despite their encoding)."""
    seed = (SAMPLES / "cangtai-2023.txt").read_bytes()
    docx = (SAMPLES / "baisha-township-2020-trial.docx").read_bytes()
    return [
        ("empty.pdf", b""),
        ("random.pdf", rng.randbytes(20_000)),
        ("random.docx", rng.randbytes(5_000)),
        ("truncated.docx", docx[: len(docx) // 2]),
        ("old-word.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000)),
        ("bomb.docx", hostile.docx_zip_bomb()),
        ("deep.html", hostile.deep_html()),
        ("utf16.txt", seed.decode("utf-8").encode("utf-16")),
        ("image.png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(3000)),
    ]


def plan(n: int, rng: random.Random) -> tuple[list[Upload], list[Upload], list[str]]:
    """Wave 1, wave 2 (new uploads and corrected re-uploads of wave-1 keys) and the poison keys."""
    samples, broken = sample_files(), broken_files(rng)
    faulty = (SAMPLES / "nanling-housing-2023-faulty.md").read_bytes()
    corrected = (SAMPLES / "nanling-housing-2023-corrected.md").read_bytes()
    n1 = n * 3 // 4
    n_fix = max(1, n // 10)
    wave1: list[Upload] = []
    poison: list[str] = []
    for i in range(n1):
        agency = f"soak-{i:05d}"
        if i < n_fix:  # returned now, corrected in wave 2
            wave1.append(Upload(f"inbox/{agency}/2023/report.md", faulty, "nanling-housing-2023-faulty.md"))
        elif i % 50 == 7:
            name, data = broken[(i // 50) % len(broken)]
            wave1.append(Upload(f"inbox/{agency}/2023/{name}", data, f"broken:{name}"))
        elif i % 100 == 13:
            wave1.append(Upload(f"inbox/{agency}/2023/scan.pdf", b"%PDF-1.4\n" + rng.randbytes(int(1.5 * 2**20)),
                                "oversize"))
        elif i % 100 == 29:
            wave1.append(Upload(f"inbox/{agency.upper()}/2023/r.txt", samples[0][1], "bad-key"))
        elif i % 200 == 41:
            key = f"inbox/{agency}/2023/poison.txt"
            poison.append(key)
            wave1.append(Upload(key, samples[2][1], "poison"))
        else:
            name, data, year = samples[i % len(samples)]
            wave1.append(Upload(f"inbox/{agency}/{year}/{name}", data, name))
    wave2 = [Upload(u.key, corrected, "nanling-housing-2023-corrected.md") for u in wave1[:n_fix]]
    for i in range(n1, n1 + (n - n1 - n_fix)):
        name, data, year = samples[i % len(samples)]
        wave2.append(Upload(f"inbox/soak-{i:05d}/{year}/{name}", data, name))
    return wave1, wave2, poison


def fault_rules(poison: list[str]) -> list[Rule]:
    """Background faults on every kind of request, and poison keys that never download."""
    rules = [Rule(method="GET", key="|".join(map(re.escape, poison)), status=500)] if poison else []
    return rules + [
        Rule(method="GET", key=r"inbox/.*", status=503, code="SlowDown", probability=0.03),
        Rule(method="GET", key=r"inbox/.*", reset="before", probability=0.01),
        Rule(method="GET", key=r"inbox/.*", truncate=0.5, probability=0.01),
        Rule(method="GET", key=r"inbox/.*", delay=0.3, probability=0.005),
        Rule(method="GET", query="list-type=2", status=500, probability=0.05),
        Rule(method="HEAD", status=503, code="SlowDown", probability=0.02),
        Rule(method="PUT", key=r"outbox/.*", status=500, probability=0.03),
        Rule(method="PUT", key=r"outbox/.*", reset="forwarded", probability=0.01),
        Rule(method="PUT", key=r"outbox/.*", reset="before", probability=0.01),
    ]


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path, s3_url: str, proxy: FaultProxy) -> None:
        self.args = args
        self.bucket = "soak"
        self.data_dir = workdir / "data"
        self.direct = S3Store.from_settings(self.settings(s3_url))
        self.direct.ensure_bucket()
        self.proxy = proxy
        self.runs: list[dict[str, Any]] = []
        self.kills = 0

    def settings(self, endpoint: str) -> Settings:
        return Settings(data_dir=self.data_dir, chunk_size=self.args.chunk_size,
                        s3={"endpoint_url": endpoint, "bucket": self.bucket, "access_key_id": "test",
                            "secret_access_key": "test", "max_attempts": 3, "read_timeout": 10},
                        limits={"max_upload_mb": MAX_UPLOAD_MB, "upload_attempts": UPLOAD_ATTEMPTS})

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
        env.update({
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), "DO_NOT_TRACK": "1",
            "NIANBAO_DATA_DIR": str(self.data_dir), "NIANBAO_CHUNK_SIZE": str(self.args.chunk_size),
            "NIANBAO_S3__ENDPOINT_URL": self.proxy.url, "NIANBAO_S3__BUCKET": self.bucket,
            "NIANBAO_S3__ACCESS_KEY_ID": "test", "NIANBAO_S3__SECRET_ACCESS_KEY": "test",
            "NIANBAO_S3__MAX_ATTEMPTS": "3", "NIANBAO_S3__READ_TIMEOUT": "10",
            "NIANBAO_LIMITS__MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
            "NIANBAO_LIMITS__UPLOAD_ATTEMPTS": str(UPLOAD_ATTEMPTS),
        })
        return env

    def upload(self, uploads: list[Upload]) -> float:
        t0 = time.perf_counter()
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda u: self.direct.put(u.key, u.data), uploads))
        return time.perf_counter() - t0

    def loaded(self) -> int:
        import duckdb

        snap = self.data_dir / "nianbao.snapshot.duckdb"
        if not snap.exists():
            return 0
        try:
            with duckdb.connect(str(snap), read_only=True) as con:
                return int(con.execute("SELECT count(*) FROM uploads").fetchone()[0])  # type: ignore[index]
        except duckdb.Error:
            return 0

    def ingest(self, kill_after: int | None = None) -> dict[str, Any]:
        """One ``nianbao ingest`` child; SIGKILLed once ``kill_after`` submissions are loaded."""
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "nianbao", "ingest"] + ([] if self.args.prefect else ["--no-prefect"])
        p = subprocess.Popen(cmd, cwd=ROOT, env=self.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        killed_at = None
        if kill_after is not None:
            while p.poll() is None:
                n = self.loaded()
                if n >= kill_after:
                    os.killpg(p.pid, signal.SIGKILL)
                    killed_at = n
                    self.kills += 1
                    break
                time.sleep(0.1)
        out, err = p.communicate()
        tail = (out + err).strip().splitlines()[-1:] if p.returncode else []
        run = {"seconds": round(time.perf_counter() - t0, 1), "exit": p.returncode, "killed_at": killed_at,
               "summary": next((line for line in out.splitlines() if " uploads: " in line), ""), "error": tail}
        self.runs.append(run)
        print(f"  ingest: exit {p.returncode}, {run['seconds']} s"
              + (f", killed after {killed_at} loaded" if killed_at is not None else "")
              + f"  {run['summary'].strip()} {' '.join(tail)[:200]}", flush=True)
        return run

    def until_done(self, max_runs: int = 12) -> None:
        """Ingest again until a run loads nothing, retries nothing and leaves nothing pending."""
        for _ in range(max_runs):
            run = self.ingest()
            s = run["summary"]
            if run["exit"] == 0 and s.startswith("0 uploads") and self.pending() == 0:
                return
        raise SystemExit("soak: the pipeline did not settle")

    def pending(self) -> int:
        import duckdb

        with duckdb.connect(str(self.data_dir / "nianbao.snapshot.duckdb"), read_only=True) as con:
            return int(con.execute("SELECT count(*) FROM v_pending_work").fetchone()[0])  # type: ignore[index]


def check(soak: Soak, uploads: list[Upload], poison: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The invariants, against the live warehouse and the bucket; returns (counts, failures)."""
    import duckdb

    failures: list[str] = []
    store = soak.direct
    with duckdb.connect(str(soak.data_dir / "nianbao.duckdb"), read_only=True) as con:
        def q(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
            return con.execute(sql, params or []).fetchall()

        ledger = q("SELECT count(*), count(DISTINCT (key, etag, received_at)) FROM ledger")[0]
        subs = q("SELECT count(*), count(DISTINCT submission_id) FROM uploads")[0]
        orphans = q("SELECT count(*) FROM ledger l ANTI JOIN uploads u USING (submission_id)")[0][0]
        notices = q("SELECT count(*), count(sent_at) FROM notices")[0]
        unanswered = q("SELECT count(*) FROM uploads u ANTI JOIN notices n USING (submission_id)")[0][0]
        by_status = dict(q("SELECT status, count(*) FROM uploads GROUP BY ALL ORDER BY ALL"))
        by_key = {k: (st, sid) for k, st, sid in q(
            "SELECT key, status, submission_id FROM submissions WHERE is_current OR key_error IS NOT NULL")}
        keys_of = {sid: (k, a) for sid, k, a in q("SELECT submission_id, key, agency_id FROM uploads")}
        pending = q("SELECT count(*) FROM v_pending_work")[0][0]
        poisoned = q("SELECT count(*) FROM uploads WHERE key IN (SELECT unnest($1::VARCHAR[])) "
                     "AND status = 'failed' AND sha256 IS NULL", [poison])[0][0] if poison else 0
        unchanged = q("SELECT count(*) FROM ledger l JOIN uploads u USING (submission_id) "
                      "WHERE (l.key, l.etag) <> (u.key, u.etag)")[0][0]
    outbox = [r.key for r in store.list("outbox/")]
    json_keys = [k for k in outbox if k.endswith(".json")]
    md_keys = [k for k in outbox if k.endswith(".md")]
    wrong_place = 0
    for k in json_keys:
        sid = k.rsplit("/", 1)[1].removesuffix(".json")
        key, agency = keys_of.get(sid, (None, None))
        if key is None or not (k.startswith(f"outbox/{agency}/") if agency else k.startswith("outbox/_rejected/")):
            wrong_place += 1
    statuses: dict[str, set[str]] = {}
    kinds = {u.key: u.kind for u in uploads}  # the last upload of a key is its current version
    for key, (status, _) in by_key.items():
        statuses.setdefault(kinds.get(key, "?"), set()).add(status)
    inconsistent = {k: sorted(v) for k, v in statuses.items() if len(v) > 1 and not k.startswith("broken:")}

    def need(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    versions = len(uploads)
    need(ledger == (versions, versions), f"ledger rows {ledger} != uploaded versions {versions}")
    need(subs[0] == subs[1], f"duplicate submissions {subs}")
    need(orphans == 0, f"{orphans} ledger rows without a submission")
    need(subs[0] + unchanged == versions, f"submissions {subs[0]} + unchanged {unchanged} != versions {versions}")
    need(notices == (subs[0], subs[0]), f"notices {notices} != one written per submission ({subs[0]})")
    need(unanswered == 0, f"{unanswered} submissions without a notice")
    need(len(json_keys) == len(set(json_keys)) == subs[0], f"{len(json_keys)} notice objects != {subs[0]}")
    need(len(md_keys) == subs[0], f"{len(md_keys)} Markdown notices != {subs[0]}")
    need(wrong_place == 0, f"{wrong_place} notices outside their agency's outbox")
    need(pending == 0, f"{pending} items still pending")
    need(poisoned == len(poison), f"{poisoned} of {len(poison)} poison uploads answered as failed")
    need(not inconsistent, f"same file, different status: {inconsistent}")
    counts = {"uploaded_versions": versions, "ledger_rows": ledger[0], "submissions": subs[0],
              "unchanged_versions": unchanged, "by_status": by_status, "notices": notices[0],
              "notices_written": notices[1], "outbox_json": len(json_keys), "outbox_md": len(md_keys),
              "duplicates": subs[0] - subs[1] + ledger[0] - ledger[1], "pending": pending,
              "poison_failed": f"{poisoned}/{len(poison)}"}
    return counts, failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uploads", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--chunk-size", type=int, default=50)
    ap.add_argument("--prefect", action="store_true", help="ingest through the Prefect flow, not --no-prefect")
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep (default: a temporary one)")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="nianbao-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    wave1, wave2, poison = plan(args.uploads, rng)
    t0 = time.perf_counter()
    with local_s3.start("process") as s3, FaultProxy(s3.endpoint_url, seed=args.seed) as proxy:
        soak = Soak(args, workdir, s3.endpoint_url, proxy)
        print(f"soak: {len(wave1)} + {len(wave2)} uploads, {len(poison)} poison keys, "
              f"{'Prefect flow' if args.prefect else 'plain pipeline'}, work dir {workdir}")
        print(f"wave 1 uploaded in {soak.upload(wave1):.1f} s; faults on: "
              + ", ".join(str(r) for r in fault_rules(poison)))
        for rule in fault_rules(poison):
            proxy.add_rule(rule)
        soak.ingest(kill_after=len(wave1) // 3)
        soak.until_done()
        print(f"wave 2 uploaded in {soak.upload(wave2):.1f} s")
        soak.until_done()
        faults = proxy.stats()
        counts, failures = check(soak, wave1 + wave2, poison)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("\nfaults injected:", dict(faults.faults), f"of {faults.requests} requests")
    print(f"ingest runs: {len(soak.runs)} ({soak.kills} killed with SIGKILL, "
          f"{sum(1 for r in soak.runs if r['exit'] not in (0, -9))} ended with an error and were rerun)")
    for k, v in counts.items():
        print(f"  {k:<20} {v}")
    print(f"elapsed {elapsed:.0f} s ({counts['uploaded_versions'] / elapsed:.1f} uploads/s end to end, "
          f"faults and reruns included); peak RSS of a child process {peak:.0f} MB")
    if failures:
        print("INVARIANTS FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("all invariants hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
