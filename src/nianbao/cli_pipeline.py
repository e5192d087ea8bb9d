"""Pipeline commands: ``demo``, ``upload``, ``ingest``, ``watch``, ``status``, ``query``.

A translator only: each command builds :class:`~nianbao.config.Settings`, calls the library and
prints. Prefect, boto3 and DuckDB are imported inside the commands, so ``nianbao check`` stays
fast. Operational errors print one ``Error: …`` line and exit 2; success exits 0 whatever the
verdicts were (``nianbao check`` is the command whose exit code is a verdict).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from nianbao.config import Settings


class PipelineError(click.ClickException):
    """A known operational error: one line on stderr, exit 2, no traceback."""

    exit_code = 2  # EXIT_FAILED: the same code `check` uses for "could not do it"


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment plus the command's options (unset options are ignored)."""
    from pydantic import ValidationError

    from nianbao.config import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise PipelineError(f"invalid configuration: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc


def translate_errors(fn: Any) -> Any:
    """Turn nianbao's operational errors raised by a command into one-line CLI errors (exit 2)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from nianbao.errors import NianbaoError

        try:
            return fn(*args, **kwargs)
        except NianbaoError as exc:
            raise PipelineError(str(exc)) from exc

    return wrapper


def prefect_env(data_dir: Path, quiet: bool = True) -> None:
    """Offline, telemetry-free Prefect with its state under the data dir (unless already set)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    Path(os.environ.setdefault("PREFECT_HOME", str((data_dir / "prefect").resolve()))).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # fresh DB: ~20 s > default
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _flows() -> Any:
    """The ``flows`` package (repo root, beside ``src/``), importable from a checkout."""
    try:
        import flows.ingest as ingest_module
    except ImportError:
        root = Path(__file__).resolve().parents[2]
        if not (root / "flows" / "ingest.py").exists():
            raise PipelineError("the Prefect flows (flows/) are not importable; run from the repository "
                                "checkout or pass --no-prefect") from None
        sys.path.insert(0, str(root))
        import flows.ingest as ingest_module
    return ingest_module


def run_ingest(settings: Settings, keys: list[str] | None, use_prefect: bool, console: Any) -> dict[str, Any]:
    """Ingest via the Prefect flow (ephemeral server if no PREFECT_API_URL) or the plain pipeline."""
    if use_prefect:
        prefect_env(settings.data_dir)
        module = _flows()
        config = {"data_dir": str(settings.data_dir), "chunk_size": settings.chunk_size,
                  "warehouse_path": str(settings.warehouse), "snapshot_path": str(settings.snapshot),
                  "s3": {"bucket": settings.s3.bucket, "endpoint_url": settings.endpoint_url}}
        with console.status("running the ingest flow (Prefect; the first run of a process starts its server)…"):
            return dict(module.ingest(keys=keys or None, config=config))
    from rich.progress import Progress

    from nianbao import pipeline

    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("checking uploads", total=None)
        return pipeline.run_ingest(settings, keys, "cli", lambda _s: progress.advance(bar))


def table(console: Any, title: str, columns: list[str], rows: list[Any]) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    console.print(table)


data_dir_option = click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                               help="Data directory with the warehouse (default: NIANBAO_DATA_DIR or nianbao-data).")


def _console() -> Any:
    from rich.console import Console

    return Console(width=max(120, int(os.environ.get("COLUMNS", "0") or 0)))


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("nianbao-demo"), show_default=True,
              help="Where the warehouse, notices, Prefect state and the bucket mirror live.")
@click.option("--inputs", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="Folder of report files to upload (default: sample_inputs/).")
@click.option("--prefect/--no-prefect", "use_prefect", default=True, show_default=True,
              help="Run the Prefect flows (ephemeral server) or the plain pipeline.")
@translate_errors
def demo(data_dir: Path, inputs: Path | None, use_prefect: bool) -> None:
    """Zero-setup demo: local S3 server, sample uploads by a few agencies, flows, warehouse, notices."""
    from nianbao.demo import default_inputs, report_demo, run_demo
    from nianbao.intake import local_s3
    from nianbao.intake.store import S3Store

    console = _console()
    t0 = time.monotonic()
    inputs = inputs or default_inputs()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = local_s3.start("process", data_dir / "moto.log")
    try:
        console.print(f"local S3 server (moto) on {server.endpoint_url}")
        settings = _settings(data_dir=data_dir, s3={"endpoint_url": server.endpoint_url, "bucket": "nianbao-demo",
                                                    "access_key_id": server.access_key,
                                                    "secret_access_key": server.secret_key})
        os.environ.setdefault("AWS_ACCESS_KEY_ID", server.access_key)  # for the flow's own S3 client
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", server.secret_key)
        store = S3Store.from_settings(settings)
        outcome = run_demo(settings, store, inputs, lambda: run_ingest(settings, None, use_prefect, console),
                           console.print)
    finally:
        server.stop()
    report_demo(console, settings, outcome)
    console.print(f"done in {time.monotonic() - t0:.1f} s")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agency", required=True, help="Agency id ([a-z0-9][a-z0-9_-]*).")
@click.option("--year", required=True, type=int, help="Report year the files are for.")
@translate_errors
def upload(files: tuple[Path, ...], agency: str, year: int) -> None:
    """Upload report files to inbox/<agency>/<year>/ in the configured bucket."""
    from nianbao.demo import content_type
    from nianbao.intake.keys import upload_key
    from nianbao.intake.store import S3Store

    settings = _settings()
    try:
        keys = [upload_key(agency, year, f.name, settings.s3.inbox_prefix) for f in files]
    except ValueError as exc:
        raise PipelineError(str(exc)) from exc
    store = S3Store.from_settings(settings)
    for f, key in zip(files, keys, strict=True):
        store.put(key, f.read_bytes(), content_type(f), metadata={"agency": agency, "year": str(year)})
        click.echo(f"uploaded s3://{settings.s3.bucket}/{key}")


@click.command()
@click.argument("keys", nargs=-1)
@click.option("--prefect/--no-prefect", "use_prefect", default=True, show_default=True)
@click.option("--chunk-size", type=click.IntRange(1, 10_000), default=None)
@data_dir_option
@translate_errors
def ingest(keys: tuple[str, ...], use_prefect: bool, chunk_size: int | None, data_dir: Path | None) -> None:
    """Check and load the given object keys, or everything new in the inbox."""
    settings = _settings(chunk_size=chunk_size, data_dir=data_dir)
    console = _console()
    summary = run_ingest(settings, list(keys) or None, use_prefect, console)
    table(console, "Ingested", ["agency_id", "year", "key", "status", "findings", "loaded"],
           [(r["agency_id"], r["year"], r["key"], r["status"], r["findings"], "yes" if r["loaded"] else "")
            for r in summary["rows"]])
    console.print(f"{summary['uploads']} uploads: {summary['new']} new, {summary['unchanged']} unchanged, "
                  f"{summary['duplicates']} duplicates; {summary['notices']} notices written")
    if summary.get("retry_later") or summary.get("notices_failed"):
        console.print(f"[yellow]{summary.get('retry_later', 0)} downloads and {summary.get('notices_failed', 0)} "
                      "notice writes failed; the next run tries them again (see the v_pending_work view)[/]")


def _anything_new(settings: Settings) -> bool:
    """True when the inbox holds an upload the ledger has not seen (a listing up to the first one,
    nothing downloaded; the registry and parsing workers are the ingest run's business)."""
    from nianbao.intake.store import S3Store
    from nianbao.pipeline import discover_new
    from nianbao.warehouse import Warehouse

    prefix = settings.s3.inbox_prefix
    ledger = Warehouse.from_settings(settings).ledger(prefix)
    return next(discover_new(S3Store.from_settings(settings), ledger, prefix), None) is not None


@click.command()
@click.option("--interval", type=click.FloatRange(0.5), default=30.0, show_default=True, help="Seconds between polls.")
@click.option("--once", is_flag=True, help="Poll once and exit.")
@click.option("--prefect/--no-prefect", "use_prefect", default=True, show_default=True)
@click.option("--relay", default=None, metavar="HOST:PORT",
              help="Also accept S3/RGW event notifications here and ingest at once (the poll still reconciles).")
@data_dir_option
@translate_errors
def watch(interval: float, once: bool, use_prefect: bool, relay: str | None, data_dir: Path | None) -> None:
    """Poll the inbox against the ledger; ingest whatever is new (one flow run per non-empty poll)."""
    import threading

    from nianbao.errors import TransientError

    settings = _settings(data_dir=data_dir)
    console = _console()
    wake = threading.Event()
    server = None
    if relay:
        from nianbao.intake.relay import start_relay_thread

        host, _, port = relay.rpartition(":")
        server = start_relay_thread(host or "127.0.0.1", int(port), settings.s3.inbox_prefix,
                                    lambda _bucket, _keys: wake.set())
        console.print(f"relay listening on http://{relay}/")
    try:
        while True:
            try:
                if _anything_new(settings):
                    summary = run_ingest(settings, None, use_prefect, console)
                    console.print(f"{time.strftime('%H:%M:%S')} {summary['uploads']} uploads, {summary['new']} new")
                elif once:
                    console.print("nothing new")
            except TransientError as exc:  # the store or the warehouse lock is away for now: poll again
                if once:
                    raise
                console.print(f"[yellow]{time.strftime('%H:%M:%S')} poll failed, trying again in {interval:g} s: "
                              f"{exc}[/]")
            if once:
                return
            wake.wait(interval)
            wake.clear()
    except KeyboardInterrupt:
        return
    finally:
        if server is not None:
            server.shutdown()


@click.command()
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@data_dir_option
@translate_errors
def status(limit: int, as_json: bool, data_dir: Path | None) -> None:
    """Recent submissions and their states (from the read-only snapshot)."""
    from nianbao.warehouse import Warehouse
    from nianbao.warehouse.queries import recent_submissions

    settings = _settings(data_dir=data_dir)
    with Warehouse.from_settings(settings).read() as con:
        rows = recent_submissions(con, limit)
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False, default=str))
        return
    table(_console(), f"Latest {len(rows)} submissions",
          ["received", "agency", "year", "file", "status", "findings", "current", "notice"],
          [(f"{r['received_at']:%Y-%m-%d %H:%M:%S}", r["agency_id"], r["year"], r["key"].rsplit("/", 1)[-1],
            r["status"], r["findings_count"], "yes" if r["is_current"] else "", r["notice"]) for r in rows])


@click.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@data_dir_option
@translate_errors
def query(sql: str, fmt: str, data_dir: Path | None) -> None:
    """Run SQL against the read-only snapshot (tables: submissions, reports, cells, findings, notices, v_*)."""
    import duckdb

    from nianbao.warehouse import Warehouse
    from nianbao.warehouse.queries import run_query

    settings = _settings(data_dir=data_dir)
    with Warehouse.from_settings(settings).read() as con:
        try:
            columns, rows = run_query(con, sql)
        except duckdb.Error as exc:
            raise PipelineError(str(exc).splitlines()[0]) from exc
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
    elif fmt == "json":
        for r in rows:
            click.echo(json.dumps(dict(zip(columns, r, strict=True)), ensure_ascii=False, default=str))
    else:
        table(_console(), "", columns, rows)


COMMANDS = (demo, upload, ingest, watch, status, query)


def register(cli: click.Group) -> None:
    """Add the pipeline commands to the main ``nianbao`` group."""
    for command in COMMANDS:
        cli.add_command(command)
