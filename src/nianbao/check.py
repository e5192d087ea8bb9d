"""Check one file: bytes in, canonical report and findings out.

This is the one entry point everything else calls (the ``check`` command, the pipeline). It never
raises for a bad file: an unreadable file is a ``failed`` result with a ``PARSE-FAILED`` finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from nianbao.errors import ParseFailed
from nianbao.model.report import CheckResult, Finding, Report

MAX_BYTES = 50 * 1024 * 1024


class PriorYearLookup(Protocol):
    """Gives the same agency's current report for an earlier year, if the warehouse has one."""

    def __call__(self, year: int) -> Report | None: ...


@dataclass(slots=True)
class CheckContext:
    """What is known about a file beyond its bytes (from the upload, the registry, the warehouse).

    ``check`` on the command line has none of it; the pipeline fills what it knows. Rules that
    need a piece that is absent simply do not run.
    """

    declared_year: int | None = None
    agency_id: str | None = None
    agency_name: str | None = None
    """The registered name of the uploading agency (for ``AGENCY-MISMATCH``)."""
    agency_level: str | None = None
    """Registry level: ``government`` (县级以上地方人民政府), ``department`` (县级以上人民政府部门),
    or anything else (towns, streets: a configured deadline applies)."""
    received_at: datetime | None = None
    local_deadline: str | None = None
    """``MM-DD`` of year Y+1 for agencies the 条例 sets no deadline for."""
    prior_year: PriorYearLookup | None = None
    extra: dict[str, object] = field(default_factory=dict)


def status_of(findings: list[Finding]) -> str:
    """``failed`` if the file could not be read, ``returned`` on any error, else ``accepted``."""
    if any(f.rule == "PARSE-FAILED" for f in findings):
        return "failed"
    if any(f.severity == "error" for f in findings):
        return "returned"
    return "accepted"


def failed_result(source: str, reason: str) -> CheckResult:
    """The result for a file that cannot be read as a report."""
    from nianbao.rules import parse_failed

    return CheckResult(source=source, status="failed", findings=[parse_failed(reason)])


def check_report(report: Report, context: CheckContext | None = None) -> CheckResult:
    """Run every rule over a parsed report."""
    from nianbao.rules import run_rules

    findings = run_rules(report, context or CheckContext())
    return CheckResult(
        source=report.source,
        agency=report.meta.agency,
        year=report.meta.year,
        template=report.template,
        status=status_of(findings),  # type: ignore[arg-type]
        cells={cid: c.value for cid, c in report.cells.items()},
        findings=findings,
    )


def check_bytes(
    data: bytes, source: str, context: CheckContext | None = None
) -> tuple[Report | None, CheckResult]:
    """Parse and check one file's bytes. ``source`` names the file (its path or object key)."""
    from nianbao.parsing import parse

    try:
        report = parse(data, source)
    except ParseFailed as exc:
        return None, failed_result(source, exc.reason)
    except Exception as exc:  # a reader bug must not lose the upload: answer it as unreadable
        return None, failed_result(source, f"文件无法解析（内部错误：{type(exc).__name__}），请另存为PDF或DOCX后重新上传")
    return report, check_report(report, context)


def check_file(path: str, context: CheckContext | None = None) -> tuple[Report | None, CheckResult]:
    """Check a file on disk."""
    import os

    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            return None, failed_result(path, f"文件过大（{size // (1024 * 1024)} MB，上限 {MAX_BYTES // (1024 * 1024)} MB），请压缩图片或拆分后重新上传")
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return None, failed_result(path, f"无法读取文件：{exc.strerror or exc}")
    return check_bytes(data, path, context)
