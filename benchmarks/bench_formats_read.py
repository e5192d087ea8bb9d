"""How fast each format reader turns bytes into a Document. Not a test: prints numbers.

    python benchmarks/bench_formats_read.py [--seconds 3] [--formats html,docx,xlsx,pdf]

The inputs are complete synthetic reports written by ``tests/helpers/render_formats.py`` (both
templates, several seeds; PDFs with and without table 三 broken over a page), plus the real reports
in ``../shared/corpus/real`` when that folder is present. Files are written to a temporary folder
first; each format is then timed in a fresh process that imports only its reader, so the peak
RSS (``resource.getrusage``) is that reader's own. Throughput is one core, from memory, after one
warm-up pass. ``--xlsx-modes`` also times openpyxl's read-only mode against the normal mode the
reader uses (read-only mode has no merged cells).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "corpus" / "real"
FORMATS = ("html", "docx", "xlsx", "pdf")


def write_corpus(folder: Path) -> None:
    """Synthetic reports in every format (and the real ones) under ``folder/<kind>/``."""
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    from tests.helpers.render_formats import render_docx, render_html, render_pdf, render_xlsx
    from tests.helpers.synthetic import make_report

    reports = [make_report(t, seed=s) for t in ("2019", "2021") for s in range(3)]
    outputs = {
        "html": [render_html(r, word=i % 2 == 1, cms=i % 3 == 0) for i, r in enumerate(reports)],
        "docx": [render_docx(r) for r in reports],
        "xlsx": [render_xlsx(r, "sheets" if i % 2 else "one_sheet") for i, r in enumerate(reports)],
        "pdf": [render_pdf(r, break_table3_at=14 if i % 2 else None, split_labels=i % 4 == 1) for i, r in enumerate(reports)],
    }
    if REAL.is_dir():
        outputs["pdf-real"] = [p.read_bytes() for p in sorted(REAL.glob("*.pdf"))]
        outputs["html-real"] = [p.read_bytes() for p in sorted(REAL.glob("*.html"))]
    for kind, files in outputs.items():
        (folder / kind).mkdir(parents=True)
        for i, data in enumerate(files):
            (folder / kind / f"{i}.bin").write_bytes(data)


def worker(kind: str, folder: Path, seconds: float) -> dict[str, float]:
    """Time the reader of ``kind`` over the files in ``folder`` (runs in its own process)."""
    from importlib import import_module

    sys.path.insert(0, str(ROOT / "src"))
    reader = import_module(f"nianbao.parsing.{kind.split('-')[0]}")
    files = [p.read_bytes() for p in sorted(folder.glob("*.bin"))]
    for data in files:
        reader.read(data)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or n < len(files):
        reader.read(files[n % len(files)])
        n += 1
    elapsed = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"files": len(files), "docs": n, "per_s": n / elapsed, "ms": 1000 * elapsed / n, "rss_mb": rss_mb}


def xlsx_modes(folder: Path, rounds: int = 20) -> dict[str, float]:
    """Seconds per workbook: openpyxl normal mode (merged cells) vs read-only mode (none)."""
    import io

    import openpyxl

    files = [p.read_bytes() for p in sorted(folder.glob("*.bin"))]
    out: dict[str, float] = {}
    for mode in (False, True):
        start = time.perf_counter()
        for _ in range(rounds):
            for data in files:
                wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=mode)
                for ws in wb.worksheets:
                    for _row in ws.iter_rows(values_only=True):
                        pass
        out["read_only" if mode else "normal"] = 1000 * (time.perf_counter() - start) / (rounds * len(files))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--formats", default=",".join(FORMATS) + ",pdf-real,html-real")
    parser.add_argument("--xlsx-modes", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]), args.seconds)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_corpus(folder)
        print(f"{'format':<10} {'files':>5} {'docs/s':>8} {'ms/doc':>8} {'peak RSS MB':>12}")
        for kind in args.formats.split(","):
            if not (folder / kind).is_dir():
                continue
            cmd = [sys.executable, __file__, "--seconds", str(args.seconds), "--worker", kind, str(folder / kind)]
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            print(f"{kind:<10} {res['files']:>5} {res['per_s']:>8.1f} {res['ms']:>8.1f} {res['rss_mb']:>12.0f}")
        if args.xlsx_modes:
            modes = xlsx_modes(folder / "xlsx")
            print(f"openpyxl load+iterate: normal {modes['normal']:.1f} ms, read_only {modes['read_only']:.1f} ms per workbook")


if __name__ == "__main__":
    main()
