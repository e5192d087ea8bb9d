"""Turn a check result into the notice an agency's clerk reads, and its machine-readable twin.

The words live in Jinja templates beside this module (one per kind) and the per-rule fix hints in
``templates/fix_hints.toml``, so wording can change without touching code and rule ids stay
declared once in Python. This module only prepares plain values for the templates: where a
finding is (from ``Finding.location``, else from its anchor), what was expected and found, and how
to fix it.

Kinds: ``receipt`` (accepted), ``return`` (returned: some error finding), ``failure`` (the file
could not be read) and ``rejected`` (the key is outside ``inbox/<agency_id>/<year>/``, so there is
no agency to answer; the caller signals this with ``agency_id=None``).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2

from nianbao.model.cells import catalog
from nianbao.model.report import SECTION_TITLES, TABLE_TITLES, Finding

if TYPE_CHECKING:
    from nianbao.notices import NoticeInput, RenderedNotice

CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""Agencies read times in Beijing time; every time a notice prints is converted to it."""

NOTICE_SCHEMA = "nianbao.notice/1"
"""Version of the JSON notice, bumped when a field changes meaning."""

KIND_BY_STATUS = {"accepted": "receipt", "returned": "return", "failed": "failure"}

TEMPLATE_NAMES = {
    "2021": "2021年修订格式（国办公开办函〔2021〕30号）",
    "2019": "2019年试行格式（国办公开办函〔2019〕60号）",
}

# Anchors that are not cells: a clerk's name for each place.
META_PLACES = {
    "file": "整个文件",
    "meta.agency": "报告标题中的机关名称",
    "meta.year": "报告标题与统计期限（报告年度）",
    "meta.template": "表二、表三的表格格式",
    "meta.received_at": "报送时间",
}


@cache
def _env() -> jinja2.Environment:
    # Plain text out (Markdown), so no HTML autoescaping; StrictUndefined turns a typo in a
    # template into an error in tests instead of a silently empty line in a notice.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("nianbao.notices", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


@cache
def fix_hints() -> dict[str, str]:
    """How to fix each rule's finding, keyed by rule id (from ``templates/fix_hints.toml``)."""
    text = resources.files("nianbao.notices").joinpath("templates/fix_hints.toml").read_text(encoding="utf-8")
    return dict(tomllib.loads(text)["hints"])


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding as a notice prints it."""

    rule: str
    severity: str
    place: str
    message: str
    expected: str | None
    actual: str | None
    fix: str


def render_notice(n: NoticeInput, *, now: datetime | None = None) -> RenderedNotice:
    """Render the notice for one checked upload.

    ``now`` fixes ``generated_at`` (tests); by default it is the current time.
    """
    from nianbao.notices import RenderedNotice

    kind = "rejected" if n.agency_id is None else KIND_BY_STATUS.get(n.result.status, "failure")
    generated = (now or datetime.now(UTC)).astimezone(CHINA_TZ)
    findings = _ordered(n.result.findings)
    views = [_view(f, n) for f in findings]
    errors = [v for v in views if v.severity == "error"]
    warnings = [v for v in views if v.severity != "error"]
    v = _facts(n, generated)
    markdown = _env().get_template(f"{kind}.md.j2").render(v=v, errors=errors, warnings=warnings)
    return RenderedNotice(
        kind=kind,
        subject=_subject(kind, n, v, len(errors)),
        json=_json(kind, n, generated),
        markdown=_tidy(markdown),
    )


def _ordered(findings: list[Finding]) -> list[Finding]:
    """Errors first (they are why a report comes back), each group in the checker's order."""
    return [f for f in findings if f.severity == "error"] + [f for f in findings if f.severity != "error"]


def _view(f: Finding, n: NoticeInput) -> FindingView:
    return FindingView(
        rule=f.rule,
        severity=f.severity,
        place=f.location or place_of(f.at, n),
        message=f.message,
        expected=show_value(f.expected),
        actual=show_value(f.actual),
        fix=fix_hints().get(f.rule, ""),
    )


def place_of(at: str, n: NoticeInput | None = None) -> str:
    """A clerk's name for a finding's anchor when the rule gave no ``location``.

    Cell ids become table, row and column (with the line or page the cell was read from, when
    the report is at hand); sections and tables get their printed titles.
    """
    if at in META_PLACES:
        return META_PLACES[at]
    if at in SECTION_TITLES:
        return f"“{SECTION_TITLES[at]}”部分"
    if at in TABLE_TITLES:
        return TABLE_TITLES[at]
    spec = catalog().get(at)
    if spec is None:
        return at
    group = f"{spec.group}·" if spec.group and spec.table == "s4" else ""
    text = f"{TABLE_TITLES[spec.table]}“{group}{spec.row_label}”行“{spec.col_label}”列"
    cell = n.report.cells.get(at) if n is not None and n.report is not None else None
    if cell is not None:
        if cell.source.page:
            text += f"（第{cell.source.page}页）"
        elif cell.source.line:
            text += f"（第{cell.source.line}行）"
    return text


def show_value(value: Any) -> str | None:
    """An expected or actual value as printed in a notice; ``None`` means "do not print"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, list | tuple):
        return "、".join(s for s in (show_value(x) for x in value) if s is not None) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def china_time(t: datetime) -> datetime:
    """``t`` in Beijing time; a naive ``t`` is taken as UTC (what S3 and the pipeline use)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(CHINA_TZ)


def _time_text(t: datetime) -> str:
    c = china_time(t)
    return f"{c.year}年{c.month}月{c.day}日 {c:%H:%M}（北京时间）"


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        human = f"{size / (1024 * 1024):.1f} MB"
    elif size >= 1024:
        human = f"{size / 1024:.1f} KB"
    else:
        return f"{size} 字节"
    return f"{human}（{size:,} 字节）"


def _facts(n: NoticeInput, generated: datetime) -> dict[str, Any]:
    """Plain values every template may print."""
    meta = n.report.meta if n.report is not None else None
    report_year = (meta.year if meta else None) or n.year
    agency = n.agency_name or (meta.agency if meta else None)
    file_name = n.key.rsplit("/", 1)[-1] or n.key
    title = meta.title if meta and meta.title else None
    if title:
        report_name = f"《{title}》"
    elif agency and report_year:
        report_name = f"《{agency}{report_year}年政府信息公开工作年度报告》"
    else:
        report_name = "政府信息公开工作年度报告"
    year_dir = n.year or report_year
    resubmit_to = f"inbox/{n.agency_id}/{year_dir if year_dir else '报告年度'}/" if n.agency_id else None
    template = n.report.template if n.report is not None else n.result.template
    return {
        "submission_id": n.submission_id,
        "key": n.key,
        "file_name": file_name,
        "size_text": _size_text(n.size),
        "sha_prefix": n.sha256[:16] if n.sha256 else "（文件未下载，未计算）",
        "received_text": _time_text(n.received_at),
        "generated_text": _time_text(generated),
        "addressee": agency or (f"单位编号 {n.agency_id}" if n.agency_id else "上传者"),
        "agency": agency,
        "title": title or "（未能从文件中读取标题）",
        "report_name": report_name,
        "report_year_text": f"{report_year}年度" if report_year else "（未能读取）",
        "template_text": TEMPLATE_NAMES.get(template or "", "（未能识别）"),
        "resubmit_to": resubmit_to,
        "reason": _failure_reason(n.result.findings),
    }


def _failure_reason(findings: list[Finding]) -> str:
    """Why the file could not be read: the message of the finding anchored at the whole file."""
    for f in findings:
        if f.at == "file":
            return f.message
    return "文件无法读取为年度报告。"


def _subject(kind: str, n: NoticeInput, v: dict[str, Any], n_errors: int) -> str:
    who = v["agency"] or (n.agency_id or "")
    year = f"{n.year}年" if n.year else ""
    sid = n.submission_id
    if kind == "receipt":
        return f"【接收回执】{who}{year}政府信息公开工作年度报告已接收（编号{sid}）"
    if kind == "return":
        return f"【退回修改】{who}{year}政府信息公开工作年度报告有{n_errors}处错误，请更正后重新上传（编号{sid}）"
    if kind == "failure":
        return f"【无法读取】{who}上传的文件“{v['file_name']}”无法读取，请重新上传（编号{sid}）"
    return f"【未予受理】文件“{v['file_name']}”的上传位置不符合要求（编号{sid}）"


def finding_record(f: Finding) -> dict[str, Any]:
    """A finding as the JSON notice carries it: the ``check`` contract plus ``location``."""
    return {**f.model_dump(), "location": f.location}


def _json(kind: str, n: NoticeInput, generated: datetime) -> str:
    """The machine-readable notice; findings in the checker's order, exactly as in the result."""
    findings = n.result.findings
    meta = n.report.meta if n.report is not None else None
    doc = {
        "schema": NOTICE_SCHEMA,
        "kind": kind,
        "status": n.result.status,
        "submission_id": n.submission_id,
        "key": n.key,
        "agency_id": n.agency_id,
        "agency_name": n.agency_name,
        "year": n.year,
        "received_at": china_time(n.received_at).isoformat(),
        "sha256": n.sha256,
        "size": n.size,
        "report": None if meta is None else {
            "title": meta.title,
            "agency": meta.agency,
            "year": meta.year,
            "template": n.report.template if n.report is not None else None,
        },
        "resubmit_to": f"inbox/{n.agency_id}/{n.year}/" if n.agency_id and n.year else None,
        "counts": {
            "error": sum(f.severity == "error" for f in findings),
            "warning": sum(f.severity != "error" for f in findings),
        },
        "findings": [finding_record(f) for f in findings],
        "generated_at": generated.isoformat(),
    }
    # default=str: expected/actual are free-form (Any) and must never make a notice unwritable.
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n"


def _tidy(text: str) -> str:
    """At most one blank line in a row and one trailing newline, whatever the templates did."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines) + "\n"
