"""Check one file: bytes in, canonical report and findings out.

This is the one entry point everything else calls (the ``check`` command, the pipeline). It never
raises for a bad file: an unreadable file is a ``failed`` result with a ``PARSE-FAILED`` finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from nianbao.errors import ParseFailed
from nianbao.model.report import CheckResult, Finding, Report

if TYPE_CHECKING:
    from nianbao.sandbox import Sandbox

MB = 1024 * 1024
MAX_BYTES = 50 * MB
"""Default size limit of one file (the pipeline's is ``Settings.limits.max_upload_mb``)."""
INTERNAL_ERROR = "文件无法解析（内部错误：{name}），请另存为PDF或DOCX后重新上传"


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


def parse_outcome(data: bytes, source: str) -> Report | ParseFailed:
    """The report in ``data``, or why it cannot be read as one (returned, not raised).

    ``MemoryError`` propagates: the caller decides what running out of memory means (a worker in
    :mod:`nianbao.sandbox` answers with the memory limit and is replaced).
    """
    from nianbao.parsing import parse

    try:
        return parse(data, source)
    except ParseFailed as exc:
        return exc
    except MemoryError:
        raise
    except Exception as exc:  # a reader bug must not lose the upload: answer it as unreadable
        return ParseFailed(INTERNAL_ERROR.format(name=type(exc).__name__), repr(exc))


def check_bytes(
    data: bytes, source: str, context: CheckContext | None = None
) -> tuple[Report | None, CheckResult]:
    """Parse and check one file's bytes. ``source`` names the file (its path or object key)."""
    return check_outcome(parse_outcome(data, source), source, context)


def check_outcome(outcome: Report | ParseFailed, source: str,
                  context: CheckContext | None = None) -> tuple[Report | None, CheckResult]:
    """The rules over a parsed report, or the ``failed`` result for a file that could not be read."""
    if isinstance(outcome, ParseFailed):
        return None, failed_result(source, outcome.reason)
    return outcome, check_report(outcome, context)


def too_large(size: int, limit: int) -> str:
    """The reason given for a file over the size limit (checked before it is read)."""
    return (f"文件过大（{size / MB:.3g} MB，上限 {limit / MB:.3g} MB），"
            "请压缩图片或删除与年度报告无关的附件后重新上传")


def read_file(path: str, max_bytes: int = MAX_BYTES) -> bytes | ParseFailed:
    """A file's bytes, or why it was not read (too large, unreadable); sized before it is read."""
    import os

    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            return ParseFailed(too_large(size, max_bytes), f"{size} bytes")
        with open(path, "rb") as fh:
            return fh.read(max_bytes + 1)
    except OSError as exc:
        return ParseFailed(f"无法读取文件：{exc.strerror or exc}", str(exc))


def check_file(path: str, context: CheckContext | None = None, max_bytes: int = MAX_BYTES,
               sandbox: Sandbox | None = None) -> tuple[Report | None, CheckResult]:
    """Check a file on disk; with a ``sandbox`` the parsing runs in one of its workers."""
    data = read_file(path, max_bytes)
    if isinstance(data, ParseFailed):
        return None, failed_result(path, data.reason)
    if sandbox is not None:
        return sandbox.check(data, path, context)
    return check_bytes(data, path, context)
