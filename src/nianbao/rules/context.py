"""Rules that need more than the file: the agency registry, the upload, the warehouse.

Each reads what it needs from :class:`~nianbao.check.CheckContext` and yields nothing when that
piece is absent (``nianbao check`` on the command line has no context, so these never fire
there). All are warnings: the context itself may be wrong (a registry name out of date, a prior
report that was itself wrong), so a person should look rather than the report being returned.

The previous year's report comes from ``context.prior_year(Y - 1)``, the same agency's current
report for that year as the warehouse holds it. Y is the report's own year, else the year the
upload declared.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from nianbao.model.report import Report
from nianbao.rules.base import Hit, hit, rule
from nianbao.rules.cells import col_label, where

if TYPE_CHECKING:
    from nianbao.check import CheckContext

CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""Deadlines are calendar days in China; a file received at 01-31 23:30 UTC+8 is on time."""

C7 = ("natural", "commercial", "research", "nonprofit", "legal", "other_org", "total")
S2_ROWS = {"regulations": "规章", "normative_documents": "行政规范性文件"}


def report_year(report: Report, context: CheckContext) -> int | None:
    """Y: the year read from the report, else the year the upload declared."""
    return report.meta.year or context.declared_year


def prior_report(report: Report, context: CheckContext) -> tuple[int, Report] | None:
    """``(Y-1, the previous year's report)``, or None when Y or the lookup or the report is missing."""
    year = report_year(report, context)
    if year is None or context.prior_year is None:
        return None
    prior = context.prior_year(year - 1)
    return None if prior is None else (year - 1, prior)


# --- AGENCY-MISMATCH -------------------------------------------------------------------------

_NAME_NOISE = re.compile(r"[\s·•()\[\]{}（）【】〔〕“”\"'‘’《》<>、，,。.:：;；\-—_/]+")


def normalise_agency(name: str) -> str:
    """An agency name reduced for comparison: NFKC, no spaces or punctuation, 人民政府 → 政府."""
    return _NAME_NOISE.sub("", unicodedata.normalize("NFKC", name)).replace("人民政府", "政府")


def _after_government(name: str) -> str | None:
    """What follows the last 政府 in a normalised name (``""`` for a government itself), or None."""
    return name.rpartition("政府")[2] if "政府" in name else None


def agencies_match(a: str, b: str) -> bool:
    """Whether two names plausibly denote the same agency, allowing the common abbreviations.

    One normalised name must contain the other (``某区人民政府`` in ``某市某区人民政府``,
    ``苍台镇`` in ``苍台镇人民政府``), and 政府 must be used consistently: when both names contain
    it, the same words must follow it (``某县人民政府`` is not ``某县人民政府办公室``); when only the
    longer does, it must be the government itself (``苍台镇`` abbreviates ``苍台镇人民政府`` but
    ``某县`` does not abbreviate ``某县人民政府办公室``); when neither does, the shorter must end
    the longer (``发改局`` for ``某县发改局``, but ``某县`` is not ``某县教育局``).
    """
    x, y = normalise_agency(a), normalise_agency(b)
    if not x or not y or x == y:
        return True
    short, long = sorted((x, y), key=len)
    if short not in long:
        return False
    tail_short, tail_long = _after_government(short), _after_government(long)
    if tail_short is not None and tail_long is not None:
        return tail_short == tail_long
    if tail_long is not None:
        return tail_long == ""
    return long.endswith(short)


@rule("AGENCY-MISMATCH", severity="warning", anchor="meta.agency", needs_context=True,
      message="报告标题中的机关名称为“{actual}”，与上传目录所属单位“{expected}”不一致，请确认是否上传了本单位的报告")
def rule_agency_mismatch(report: Report, context: CheckContext) -> Iterator[Hit]:
    """The agency named in the title is not the agency the upload belongs to."""
    title_name, registry_name = report.meta.agency, context.agency_name
    if not title_name or not registry_name:
        return
    if not agencies_match(registry_name, title_name):
        yield hit("meta.agency", registry_name, title_name, location="报告标题中的机关名称")


# --- LATE-SUBMISSION -------------------------------------------------------------------------

_MM_DD = re.compile(r"^(\d{1,2})-(\d{1,2})$")


def deadline(year: int, level: str | None, local_deadline: str | None) -> tuple[date, str] | None:
    """The last day (China time) to submit the report for ``year``, and the rule that sets it.

    条例第四十九条: 县级以上人民政府部门 by 1月31日 of Y+1, the report of a 县级以上地方人民政府
    by 3月31日; other agencies (towns, streets) by the locally configured ``MM-DD`` of Y+1, else
    no deadline is known. A configured 02-29 falls back to 02-28 in a common year.
    """
    if level == "department":
        return date(year + 1, 1, 31), "《政府信息公开条例》第四十九条（县级以上人民政府部门）"
    if level == "government":
        return date(year + 1, 3, 31), "《政府信息公开条例》第四十九条（县级以上地方人民政府）"
    if not local_deadline:
        return None
    m = _MM_DD.match(local_deadline.strip())
    if m is None:
        return None
    month, day = int(m[1]), int(m[2])
    try:
        return date(year + 1, month, day), "本地规定的报送时限"
    except ValueError:
        if (month, day) == (2, 29):
            return date(year + 1, 2, 28), "本地规定的报送时限"
        return None


def _china(t: datetime) -> datetime:
    """``t`` in China time; a naive ``t`` is taken as UTC (S3 and the pipeline keep UTC)."""
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(CHINA_TZ)


@rule("LATE-SUBMISSION", severity="warning", anchor="meta.received_at", needs_context=True,
      message="{year}年度报告应于{deadline_text}前报送（依据{basis}），实际收到时间为{received_text}（北京时间）")
def rule_late_submission(report: Report, context: CheckContext) -> Iterator[Hit]:
    """Received after the statutory deadline (1月31日 / 3月31日 of Y+1, or a configured date)."""
    year = report_year(report, context)
    if year is None or context.received_at is None:
        return
    due = deadline(year, context.agency_level, context.local_deadline)
    if due is None:
        return
    last_day, basis = due
    received = _china(context.received_at)
    if received.date() > last_day:
        yield hit(
            "meta.received_at",
            last_day.isoformat(),
            received.isoformat(timespec="minutes"),
            year=year,
            basis=basis,
            deadline_text=f"{last_day.year}年{last_day.month}月{last_day.day}日",
            received_text=f"{received.year}年{received.month}月{received.day}日{received:%H:%M}",
            location="报送时间",
        )


# --- CARRYOVER-MISMATCH ----------------------------------------------------------------------


@rule("CARRYOVER-MISMATCH", severity="warning", anchor="s3.carried_over.<col>", needs_context=True,
      message="表三“{col}”列本年“上年结转”为{actual}，与{prior_year}年度报告“结转下年度继续办理”的{expected}不一致")
def rule_carryover_mismatch(report: Report, context: CheckContext) -> Iterator[Hit]:
    """This year's 上年结转 differs from 结转下年度继续办理 in the previous year's report."""
    found = prior_report(report, context)
    if found is None:
        return
    prior_year, prior = found
    # Both templates share table 三's carried rows, so the 2020→2021 change needs nothing special.
    for col in C7:
        at = f"s3.carried_over.{col}"
        this, before = report.value(at), prior.value(f"s3.carried_forward.{col}")
        if this is None or before is None:
            continue
        if this != before:
            yield hit(at, before, this, col=col_label(at), prior_year=prior_year, location=where(report, at))


# --- IN-FORCE-DISCONTINUITY ------------------------------------------------------------------


def _s2_layout(report: Report) -> str | None:
    return report.layouts.get("s2") or report.template


@rule("IN-FORCE-DISCONTINUITY", severity="warning", anchor="s2.<row>.in_force", needs_context=True,
      message="表二“{row}”现行有效件数为{actual}，与上年度现行有效件数({prior_in_force})加本年制发"
              "({issued})减本年废止({repealed})之数{expected}不衔接，请核对")
def rule_in_force_discontinuity(report: Report, context: CheckContext) -> Iterator[Hit]:
    """2022 on: 现行有效(Y) ≠ 现行有效(Y−1) + 本年制发(Y) − 本年废止(Y)."""
    year = report_year(report, context)
    if year is None or year < 2022 or _s2_layout(report) != "2021":
        return
    found = prior_report(report, context)
    if found is None or _s2_layout(found[1]) != "2021":
        return
    prior = found[1]
    for row, name in S2_ROWS.items():
        at = f"s2.{row}.in_force"
        issued, repealed, in_force = (report.value(f"s2.{row}.{c}") for c in ("issued", "repealed", "in_force"))
        before = prior.value(at)
        if issued is None or repealed is None or in_force is None or before is None:
            continue
        expected = before + issued - repealed
        if in_force != expected:
            yield hit(at, expected, in_force, row=name, prior_in_force=_num(before), issued=_num(issued),
                      repealed=_num(repealed), location=where(report, at))


def _num(v: int | float) -> int | float:
    return int(v) if isinstance(v, float) and v.is_integer() else v


# --- NARRATIVE-COPIED ------------------------------------------------------------------------

COPY_THRESHOLD = 0.9
MIN_NARRATIVE_CHARS = 100
"""Below this (normalised) length a narrative is boilerplate (「无」, a stock sentence) and two
years of it being the same says nothing."""
_REFINE_LIMIT = 250_000
"""Largest ``len(a) * len(b)`` of a differing stretch compared character by character; beyond it
the stretch counts as entirely different (a lower bound, and such a stretch is ~500 characters
of rewritten text, far from a 90 % copy)."""

_CLAUSE_SPLIT = re.compile(r"[，,。；;！!？?：:\n]+")
_NOISE = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")


def narrative(report: Report) -> str:
    """The text compared: section 一, else every section (a report whose sections were not found)."""
    text = report.sections.get("sec1", "").strip()
    if not text:
        text = "\n".join(report.sections[s] for s in sorted(report.sections))
    return text


def _clauses(text: str) -> list[str]:
    """Clauses with spaces and punctuation removed and every number replaced by ``#``.

    Numbers differ every year even in a copied report (the year itself, the counts), so they
    must not make two copies look different.
    """
    text = unicodedata.normalize("NFKC", text)
    out = []
    for part in _CLAUSE_SPLIT.split(text):
        clause = _DIGITS.sub("#", _NOISE.sub("", part))
        if clause:
            out.append(clause)
    return out


def similarity(a: str, b: str) -> float:
    """How much of two texts is the same, in ``[0, 1]`` (``2·matched / (len a + len b)``).

    This is ``difflib.SequenceMatcher.ratio()`` on normalised characters, computed in two steps to
    stay fast: clauses are aligned first (hashable, few), then only the stretches that differ are
    compared character by character. On real narratives the result equals the character-level
    ratio; on two 3,000-character texts it costs 2–12 ms where ``SequenceMatcher`` on the whole
    texts costs 40–100 ms. Texts whose character multisets already rule out the threshold
    (``quick_ratio``) return that bound at once, so below ``COPY_THRESHOLD`` the value is an upper
    bound, not the exact ratio; only the decision is exact there.
    """
    ca, cb = _clauses(a), _clauses(b)
    la, lb = sum(map(len, ca)), sum(map(len, cb))
    if la + lb == 0:
        return 1.0
    overlap = sum((Counter("".join(ca)) & Counter("".join(cb))).values())
    upper = 2 * overlap / (la + lb)
    if upper < COPY_THRESHOLD:
        return upper
    matched = 0
    for equal, sa, sb in _stretches(ca, cb):
        if equal:
            matched += len(sa)
        elif sa and sb and len(sa) * len(sb) <= _REFINE_LIMIT:
            blocks = difflib.SequenceMatcher(None, sa, sb, autojunk=False).get_matching_blocks()
            matched += sum(m.size for m in blocks)
    return 2 * matched / (la + lb)


def _stretches(ca: list[str], cb: list[str]) -> Iterator[tuple[bool, str, str]]:
    """Aligned clause runs as ``(equal, text_a, text_b)``; adjacent differing opcodes are merged.

    Merging matters: a clause split or joined by an edited comma shows up as an insert next to a
    replace, and the characters of both still largely match.
    """
    pending_a: list[str] = []
    pending_b: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ca, cb, autojunk=False).get_opcodes():
        if tag == "equal":
            if pending_a or pending_b:
                yield False, "".join(pending_a), "".join(pending_b)
                pending_a, pending_b = [], []
            yield True, "".join(ca[i1:i2]), "".join(cb[j1:j2])
        else:
            pending_a.extend(ca[i1:i2])
            pending_b.extend(cb[j1:j2])
    if pending_a or pending_b:
        yield False, "".join(pending_a), "".join(pending_b)


@rule("NARRATIVE-COPIED", severity="warning", anchor="sec1", needs_context=True,
      message="“一、总体情况”与{prior_year}年度报告的相同内容约占{percent}%（达到{threshold}%即提示），疑似沿用上年报告，请据实撰写")
def rule_narrative_copied(report: Report, context: CheckContext) -> Iterator[Hit]:
    """The narrative is at least 90% the same text as the agency's previous-year report."""
    found = prior_report(report, context)
    if found is None:
        return
    prior_year, prior = found
    this, before = narrative(report), narrative(prior)
    if min(len(_NOISE.sub("", this)), len(_NOISE.sub("", before))) < MIN_NARRATIVE_CHARS:
        return
    ratio = similarity(this, before)
    if ratio >= COPY_THRESHOLD:
        yield hit("sec1", f"低于{COPY_THRESHOLD:.0%}", f"{ratio:.0%}", prior_year=prior_year,
                  percent=int(ratio * 100), threshold=int(COPY_THRESHOLD * 100), location="“一、总体情况”部分")
