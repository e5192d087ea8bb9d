"""Narrative against tables: what the text says about applications and cases vs tables 三 and 四.

Every mention counts, not only the first: a report that states two different received counts is
checked on both. A clause is the unit of reading (split at ，。；), so 「共受理申请749件，其中自然人
申请741件」 reads 749 as the received count and leaves the 自然人 clause alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

from nianbao.model.report import Report
from nianbao.rules.base import Hit, hit, rule
from nianbao.rules.cells import where

if TYPE_CHECKING:
    from nianbao.check import CheckContext

_CLAUSE = re.compile(r"[,，。;；!！?？]")
_RECEIVED = re.compile(r"(?:收到|受理|新收|接收|接到|收悉)[^\d]{0,30}?申请[^\d]{0,8}?(\d+)(?:件|个|条|份|宗)")
_NONE_RECEIVED = re.compile(r"(?:未|没有)(?:收到|受理|接到|接收|收悉)[^\d]{0,30}?(?:申请|政府信息公开)"
                            r"|(?:未|没有)发生[^\d]{0,20}?申请|(?:无|没有)(?:政府信息公开|依)申请")
_NOT_APPLICATIONS = re.compile(r"复议|诉讼|投诉|信访|举报|结转|纠错|收费|费用")
_NO_CASES = re.compile(r"(?:未|没有|无)[^\d]{0,15}?(?:行政复议|行政诉讼|复议|诉讼)"
                       r"|(?:行政复议|行政诉讼)[^\d]{0,12}?0(?:件|起|宗|个|次)")
_NOT_ZERO_CASES = re.compile(r"纠错|纠正|败诉|撤销|确认违法|被纠|赔偿|直接起诉|复议后起诉|未经复议")


def _clauses(report: Report) -> list[str]:
    text = "\n".join([report.preamble, *(report.sections.get(s, "") for s in sorted(report.sections))])
    # lines are joined: PDF text breaks sentences at line ends (「受理政府信息公开申」/「请17件」)
    text = re.sub(r"[\s\u00a0\u3000]+", "", unicodedata.normalize("NFKC", text))
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return [c for c in _CLAUSE.split(text) if c]


@rule("TEXT-TABLE-MISMATCH", severity="warning", anchor="<cell contradicted>",
      message="正文与表格不一致：{claim}，但{place}为{expected}")
def rule_text_table_mismatch(report: Report, context: CheckContext) -> Iterator[Hit]:
    """The narrative contradicts a table (applications received; no 行政复议/行政诉讼 while 四 has some)."""
    clauses = _clauses(report)
    seen: set[tuple[str, object]] = set()

    def once(h: Hit) -> Iterator[Hit]:
        if (h.at, h.actual) not in seen:
            seen.add((h.at, h.actual))
            yield h

    new, cin = report.value("s3.new.total"), report.value("s3.carried_over.total")
    for clause in clauses:
        if new is None:
            break
        none = _NONE_RECEIVED.search(clause)
        if none and new > 0 and not _NOT_APPLICATIONS.search(clause):
            yield from once(hit("s3.new.total", new, 0, claim=f"正文称未收到政府信息公开申请（“{clause}”）",
                                place="表三“本年新收”总计", location=where(report, "s3.new.total")))
            continue
        for m in _RECEIVED.finditer(clause):
            if _NOT_APPLICATIONS.search(m.group(0)):
                continue
            n = int(m.group(1))
            if n != new and (cin is None or n != new + cin):
                yield from once(hit("s3.new.total", new, n, claim=f"正文称收到政府信息公开申请{n}件",
                                    place="表三“本年新收”总计", location=where(report, "s3.new.total")))
    review = report.value("s4.review.total")
    direct, after = report.value("s4.suit_direct.total"), report.value("s4.suit_after_review.total")
    for clause in clauses:
        if not _NO_CASES.search(clause) or _NOT_ZERO_CASES.search(clause):
            continue
        if "复议" in clause and review:
            yield from once(hit("s4.review.total", review, 0, claim="正文称未发生行政复议",
                                place="表四“行政复议”总计", location=where(report, "s4.review.total")))
        if "诉讼" in clause:
            for at, v, name in (("s4.suit_direct.total", direct, "未经复议直接起诉"),
                                ("s4.suit_after_review.total", after, "复议后起诉")):
                if v:
                    yield from once(hit(at, v, 0, claim="正文称未发生行政诉讼",
                                        place=f"表四“行政诉讼·{name}”总计", location=where(report, at)))
