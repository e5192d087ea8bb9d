"""Title, agency, report year and statistics period, read from the top of the document."""

from __future__ import annotations

import re
import unicodedata

from nianbao.model.report import ReportMeta
from nianbao.reading.normalize import display

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?")
_TITLE_WORDS = ("年度报告", "年报", "工作报告")
_AGENCY_CUT = re.compile(r"(政府信息公开|政务公开|信息公开)")
_AGENCY_SUFFIX = re.compile(r"(人民政府|政府|局|委员会|委|办公室|办|厅|街道办事处|街道|镇|乡|中心|院|所|队|署|处|会)$")
_PERIOD = re.compile(
    r"((?:19|20)\d{2})年?(\d{1,2})月(\d{1,2})日?(?:起)?(?:至|到|—|-|~|－)+"
    r"(?:((?:19|20)\d{2})年)?(\d{1,2})月(\d{1,2})日"
)
_PERIOD_CUE = ("统计", "期限", "时限", "周期", "区间", "时间")


def _clean(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    s = re.sub(r"^[#*>\s]+|[*\s]+$", "", s)
    return display(s)


def find_title(lines: list[str], hint: str | None) -> str | None:
    """The report's title: the container's title if it names a report, else the first title-like line."""
    if hint:
        h = _clean(hint)
        if any(w in h for w in _TITLE_WORDS) and "公开" in h:
            return h
    head = [_clean(x) if "公开" in x and len(x) <= 200 else x for x in lines[:25]]
    for i, t in enumerate(head):
        if not t or len(t) > 80:
            continue
        if "公开" in t and any(w in t for w in _TITLE_WORDS):
            return t
        if "公开" in t and i + 1 < len(head) and any(w in head[i + 1] for w in _TITLE_WORDS) and len(head[i + 1]) <= 12:
            return t + head[i + 1]
    if hint:
        return _clean(hint)
    return None


def agency_of(title: str, lines: list[str]) -> str | None:
    """The agency named in the title (before or after the year), else a signature-like line."""
    t = re.sub(r"\s+", "", title)
    t = re.sub(r"^[《“\"]|[》”\"]$", "", t)
    t = _YEAR.sub("", t, count=1)
    # the agency ends where the title's last 政府信息公开 begins (the agency may itself hold 政府)
    idx = t.rfind("政府信息公开")
    if idx <= 0:
        m = _AGENCY_CUT.search(t)
        idx = m.start() if m else -1
    name = t[:idx].strip("-—_·:：,，、 ") if idx > 0 else ""
    if len(name) >= 2:
        return name
    for raw in lines[:12]:
        cand = _clean(raw)
        if 2 <= len(cand) <= 25 and _AGENCY_SUFFIX.search(cand) and not re.search(r"\d", cand) and "公开" not in cand:
            return cand
    return None


def read_meta(lines: list[str], hint: str | None) -> ReportMeta:
    """Metadata from the document's first lines: the title, and the preamble's statistics period."""
    meta = ReportMeta()
    title = find_title(lines, hint)
    if title:
        meta.title = title
        m = _YEAR.search(title) or re.search(r"((?:19|20)\d{2})", title)
        if m:
            meta.title_year = int(m.group(1))
        meta.agency = agency_of(title, lines)
    head = unicodedata.normalize("NFKC", "".join(lines))[:6000]
    head = re.sub(r"\s+", "", head)
    for m in _PERIOD.finditer(head):
        before = head[max(0, m.start() - 30) : m.start()]
        if any(c in before for c in _PERIOD_CUE):
            y1 = int(m.group(1))
            y2 = int(m.group(4)) if m.group(4) else y1
            meta.period_text = m.group(0)
            meta.period_start = f"{y1:04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            meta.period_end = f"{y2:04d}-{int(m.group(5)):02d}-{int(m.group(6)):02d}"
            break
    meta.year = meta.title_year or (int(meta.period_start[:4]) if meta.period_start else None)
    return meta
