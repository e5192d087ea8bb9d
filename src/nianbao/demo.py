"""The zero-setup demo: a local S3 server, a few agencies uploading ``sample_inputs/``, the flows.

Everything lives in one data directory (default ``nianbao-demo/``): the warehouse and its
snapshot, Prefect's home, copies of the notices (``outbox/``) and a mirror of the bucket
(``bucket/``). The moto server is in-memory, so on a second run the demo restores the bucket from
the mirror and ingests again; the warehouse's ledger recognises every object as already loaded
(same bytes as the current submission) and nothing is loaded twice.

The plan for a first run: each sample file is uploaded by the agency its name starts with
(``nanling-housing-2023-faulty.md`` → agency ``nanling-housing``, year 2023); a ``*-corrected``
file is uploaded *after* the first ingest, under the same key as its ``*-faulty`` twin, so it
supersedes it; one file is also uploaded to a key outside the layout, to show the answer to that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nianbao.intake.keys import valid_agency_id
from nianbao.intake.registry import Agency, registry_csv

if TYPE_CHECKING:
    from nianbao.config import Settings
    from nianbao.intake.store import S3Store

_NAME = re.compile(r"^(?P<agency>[a-z0-9][a-z0-9-]*?)-(?P<year>20\d\d)(?:-(?P<tag>[a-z0-9-]+))?$")
DEFAULT_AGENCY = "unsorted"
CONTENT_TYPES = {".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
                 ".html": "text/html", ".htm": "text/html", ".pdf": "application/pdf",
                 ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class PlannedUpload:
    """One upload of the demo."""

    path: Path
    key: str
    agency_id: str
    year: int
    phase: int
    """1: uploaded before the first ingest; 2: the corrections, uploaded after it."""


def default_inputs() -> Path:
    """``sample_inputs/`` in the working directory, else the one in the repository checkout."""
    from nianbao.errors import ConfigError

    for p in (Path("sample_inputs"), Path(__file__).resolve().parents[2] / "sample_inputs"):
        if p.is_dir():
            return p
    raise ConfigError("no sample_inputs/ folder here; pass --inputs DIR")


def sample_files(inputs: Path) -> list[Path]:
    """Every sample file under ``inputs`` (recursively), without the ``*.expected.json`` oracles."""
    return sorted(p for p in inputs.rglob("*") if p.is_file() and not p.name.endswith(".expected.json")
                  and not p.name.startswith("."))


def plan(files: list[Path], inbox: str = "inbox/") -> list[PlannedUpload]:
    """Who uploads what, where, and in which phase (see the module docstring)."""
    out: list[PlannedUpload] = []
    years = [int(m["year"]) for f in files if (m := _NAME.match(f.stem))]
    default_year = max(years) if years else 2023
    for f in files:
        m = _NAME.match(f.stem)
        agency, year, tag = (m["agency"], int(m["year"]), m["tag"]) if m else (DEFAULT_AGENCY, default_year, None)
        if not valid_agency_id(agency):
            agency = DEFAULT_AGENCY
        name = f.name
        phase = 1
        if tag in ("faulty", "corrected") and any(
            _NAME.match(g.stem) and g.stem == f"{agency}-{year}-{'corrected' if tag == 'faulty' else 'faulty'}"
            for g in files
        ):
            name = f"{agency}-{year}{f.suffix}"  # both versions under one key: the second supersedes
            phase = 2 if tag == "corrected" else 1
        out.append(PlannedUpload(f, f"{inbox}{agency}/{year}/{name}", agency, year, phase))
    first = next((u for u in out if u.phase == 1 and u.agency_id != DEFAULT_AGENCY), None)
    if first is not None:  # the same file again, misplaced: a key outside the layout
        out.append(PlannedUpload(first.path, f"{inbox}{first.agency_id}/{first.path.name}", first.agency_id,
                                 first.year, 1))
    return out


def registry_for(uploads: list[PlannedUpload]) -> bytes:
    """``agencies.csv`` naming each demo agency as its own report names it."""
    from nianbao.check import check_file

    names: dict[str, str | None] = {}
    for u in uploads:
        if names.get(u.agency_id):
            continue
        report, _ = check_file(str(u.path))
        names[u.agency_id] = report.meta.agency if report is not None else None
    level = {"town": "town", "street": "street"}
    agencies = [Agency(a, n, next((v for k, v in level.items() if k in a), "department"), "demo", None)
                for a, n in sorted(names.items())]
    return registry_csv(agencies)


def content_type(path: Path) -> str:
    """A Content-Type for an uploaded file (informational; the reader sniffs the bytes)."""
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def upload_phase(store: S3Store, uploads: list[PlannedUpload], phase: int) -> list[str]:
    """Upload the files of one phase, with the agency and year as object metadata too."""
    keys = []
    for u in uploads:
        if u.phase == phase:
            store.put(u.key, u.path.read_bytes(), content_type(u.path),
                      metadata={"agency": u.agency_id, "year": str(u.year)})
            keys.append(u.key)
    return keys


def mirror_bucket(store: S3Store, settings: Settings, mirror: Path) -> int:
    """Save the bucket's inbox and registry under ``mirror`` (the in-memory server forgets them)."""
    n = 0
    for prefix in (settings.s3.inbox_prefix, settings.s3.registry_key):
        for ref in store.list(prefix):
            obj = store.get(ref.key)
            dest = mirror / ref.key
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(obj.data)
            meta = "".join(f"{k}={v}\n" for k, v in sorted(obj.metadata.items()))
            if meta:
                dest.with_name(dest.name + ".meta").write_text(meta, encoding="utf-8")
            n += 1
    return n


def restore_bucket(store: S3Store, mirror: Path) -> list[str]:
    """Put the mirrored objects back, in the order they were first written."""
    keys = []
    for path in sorted((p for p in mirror.rglob("*") if p.is_file() and not p.name.endswith(".meta")),
                       key=lambda p: (p.stat().st_mtime, str(p))):
        key = path.relative_to(mirror).as_posix()
        meta_file = path.with_name(path.name + ".meta")
        meta = dict(line.split("=", 1) for line in meta_file.read_text(encoding="utf-8").splitlines() if "=" in line) \
            if meta_file.exists() else None
        store.put(key, path.read_bytes(), content_type(path), metadata=meta)
        keys.append(key)
    return keys


def copy_outbox(store: S3Store, settings: Settings, dest: Path) -> int:
    """Copy every notice in the bucket's outbox to ``dest`` (same relative paths)."""
    n = 0
    for ref in store.list(settings.s3.outbox_prefix):
        target = dest / ref.key[len(settings.s3.outbox_prefix):]
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(store.get_bytes(ref.key))
        n += 1
    return n


def run_demo(settings: Settings, store: S3Store, inputs: Path, ingest: Callable[[], dict[str, Any]],
             say: Callable[[str], None]) -> dict[str, Any]:
    """Seed (or restore) the bucket, ingest, mirror, copy notices; return what happened."""
    mirror = settings.data_dir / "bucket"
    store.ensure_bucket()
    runs: list[dict[str, Any]] = []
    if mirror.exists() and any(mirror.rglob("*")):
        keys = restore_bucket(store, mirror)
        say(f"restored {len(keys)} objects from {mirror} (the local S3 server keeps nothing between runs)")
        runs.append(ingest())
        inbox_keys = [k for k in keys if k.startswith(settings.s3.inbox_prefix)]
    else:
        files = sample_files(inputs)
        uploads = plan(files, settings.s3.inbox_prefix)
        store.put(settings.s3.registry_key, registry_for(uploads), "text/csv; charset=utf-8")
        for phase in (1, 2):
            keys = upload_phase(store, uploads, phase)
            if keys:
                agencies = len({u.agency_id for u in uploads if u.phase == phase})
                say(f"phase {phase}: uploaded {len(keys)} files as {agencies} agencies; ingesting")
                runs.append(ingest())
        inbox_keys = sorted({u.key for u in uploads})
    mirror_bucket(store, settings, mirror)
    copied = copy_outbox(store, settings, settings.data_dir / "outbox")
    return {"runs": runs, "keys": inbox_keys, "notices_copied": copied}


def report_demo(console: Any, settings: Settings, outcome: dict[str, Any]) -> None:
    """Print the demo's summary: one row per upload, then where everything is."""
    from nianbao.cli_pipeline import table
    from nianbao.warehouse import Warehouse
    from nianbao.warehouse.queries import submissions_for_keys

    with Warehouse.from_settings(settings).read() as con:
        subs = submissions_for_keys(con, outcome["keys"])
    table(console, "Uploads", ["agency", "year", "file", "status", "findings", "current"],
          [(s["agency_id"] or "-", s["year"] or "-", s["key"].rsplit("/", 1)[-1], s["status"], s["findings_count"],
            "yes" if s["is_current"] else "") for s in subs])
    new = sum(r["new"] for r in outcome["runs"])
    seen = sum(r["unchanged"] + r["duplicates"] for r in outcome["runs"])
    data_dir = settings.data_dir
    console.print(f"this run: {new} new submissions loaded, {seen} uploads already in the warehouse")
    console.print(f"warehouse: {settings.warehouse}")
    console.print(f"snapshot:  {settings.snapshot}  (nianbao query --data-dir {data_dir} \"SELECT * FROM reports\")")
    console.print(f"notices:   {data_dir / 'outbox'}  ({outcome['notices_copied']} copied this run)")
