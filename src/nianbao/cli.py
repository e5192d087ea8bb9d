"""The ``nianbao`` command: a thin translator from arguments to library calls and exit codes.

``check`` imports only the parsing and rule code it needs, so it starts fast; the pipeline
commands (``demo``, ``upload``, ``ingest``, ``watch``, ``status``, ``query``) live in
:mod:`nianbao.cli_pipeline` and import Prefect, boto3 and DuckDB only when run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from nianbao.check import CheckContext
    from nianbao.model.report import CheckResult

EXIT_OK = 0
EXIT_RETURNED = 1
EXIT_FAILED = 2
_STATUS_EXIT = {"accepted": EXIT_OK, "returned": EXIT_RETURNED, "failed": EXIT_FAILED}
_SKIP_SUFFIXES = (".expected.json",)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao")
def cli() -> None:
    """Collect and check government information disclosure annual reports (政府信息公开工作年度报告)."""


def _walk(paths: tuple[str, ...]) -> Iterator[str]:
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if not f.startswith(".") and not f.endswith(_SKIP_SUFFIXES):
                        yield os.path.join(root, f)
        else:
            yield p


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file, one per line.")
@click.option("--year", type=int, default=None, help="The report year the files are declared for.")
@click.option("--isolate/--in-process", default=True, show_default=True,
              help="Read each file in a worker process with a time and memory limit (a file that hangs or "
                   "crashes a reader is answered PARSE-FAILED and the others go on).")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=60.0, show_default=True,
              help="Seconds one file may take to read (with --isolate).")
@click.option("--max-size", "max_mb", type=click.FloatRange(min=0.001), default=50.0, show_default=True,
              help="Largest file read, in MB; larger files are answered PARSE-FAILED unread.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=0), default=2048, show_default=True,
              help="Address-space cap of a worker in MB (with --isolate; 0: none).")
def check(paths: tuple[str, ...], as_json: bool, year: int | None, isolate: bool, timeout: float,
          max_mb: float, memory_mb: int) -> None:
    """Check report files (folders are walked). Exit 0: all accepted, 1: some returned, 2: some failed."""
    from nianbao.check import MB, CheckContext

    worst = EXIT_OK
    context = CheckContext(declared_year=year)
    for result in _check_all(list(_walk(paths)), context, int(max_mb * MB), isolate, timeout, memory_mb):
        worst = max(worst, _STATUS_EXIT[result.status])
        if as_json:
            click.echo(result.to_json())
        else:
            click.echo(_summary(result))
    sys.exit(worst)


def _check_all(paths: list[str], context: CheckContext, max_bytes: int, isolate: bool, timeout: float,
               memory_mb: int) -> Iterator[CheckResult]:
    """Results in the order of ``paths``; isolated files are read in parallel, one worker per core."""
    from nianbao.check import check_file

    if not isolate:
        for path in paths:
            yield check_file(path, context, max_bytes)[1]
        return
    from concurrent.futures import ThreadPoolExecutor

    from nianbao.sandbox import Limits, Sandbox, default_workers

    with Sandbox(min(len(paths), default_workers()), Limits(timeout, memory_mb)) as sandbox, \
            ThreadPoolExecutor(sandbox.workers) as pool:
        yield from pool.map(lambda p: check_file(p, context, max_bytes, sandbox)[1], paths)


@cli.command()
@click.option("--markdown", is_flag=True, help="Print the table as markdown (for docs).")
def rules(markdown: bool) -> None:
    """List the rule catalog: id, severity, anchor, and what each rule checks."""
    from nianbao.rules import REGISTRY

    if markdown:
        click.echo("| rule | severity | anchored at | checks |\n| --- | --- | --- | --- |")
    for rid, r in REGISTRY.items():
        spec = r.spec
        if markdown:
            click.echo(f"| `{rid}` | {spec.severity} | `{spec.anchor}` | {spec.summary} |")
        else:
            click.echo(f"{rid:<24} {spec.severity:<8} {spec.anchor:<22} {spec.summary}")


def _summary(result) -> str:  # type: ignore[no-untyped-def]
    """A readable per-file summary: status line, then each finding with its place and message."""
    errors = sum(1 for f in result.findings if f.severity == "error")
    warnings = len(result.findings) - errors
    head = f"{result.source}: {result.status.upper()}"
    facts = [x for x in (result.agency, f"{result.year}年" if result.year else None,
                         f"{result.template}格式" if result.template else None) if x]
    if facts:
        head += f"  ({' · '.join(facts)})"
    head += f"  {errors} error(s), {warnings} warning(s), {len(result.cells)} cells read"
    lines = [head]
    for f in result.findings:
        place = f.location or f.at
        lines.append(f"  {f.severity:<7} {f.rule:<20} {f.at:<32} {place}")
        lines.append(f"          {f.message}")
    return "\n".join(lines)


def main() -> None:
    """Console-script entry point."""
    if len(sys.argv) < 2 or sys.argv[1] not in ("check", "rules"):
        # the pipeline commands import only click at module level, but `check` skips even that
        from nianbao.cli_pipeline import register

        register(cli)
    cli(prog_name="nianbao")
