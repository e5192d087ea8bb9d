"""The six numbered sections: where each heading is, and each section's text.

Headings are recognised by their words, not their numerals: real reports number them wrongly
(two 一、, a 五 printed as 四) or use the variant titles of format.md §3.
"""

from __future__ import annotations

import re

from nianbao.reading.normalize import norm
from nianbao.reading.rows import Line

_NUMBERED = re.compile(r"^(?:第)?[一二三四五六七八九十]{1,2}(?:、|\.|．|部分|,|:)")
_KEYS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("sec1", (("总体情况",), ("概述",), ("基本情况",))),
    ("sec2", (("主动公开政府信息",),)),
    ("sec3", (("收到和处理", "申请"), ("收到和受理", "申请"), ("依申请公开政府信息情况",))),
    ("sec4", (("行政复议", "行政诉讼"),)),
    ("sec5", (("问题", "改进"), ("存在的主要问题",), ("存在问题",))),
    ("sec6", (("其他需要报告",), ("其他事项",), ("需要报告的事项",))),
)


def heading_of(line: Line) -> str | None:
    """The section id a row is the heading of, or None."""
    if line.has_values and line.values and line.labels:
        return None
    if len(line.row.cells) > 2:
        return None
    t = line.own if not line.values else norm(line.row.text)
    if not t or len(t) > 40:
        return None
    numbered = bool(_NUMBERED.match(t))
    if not numbered and t[0] in "(0123456789":
        return None  # （一）主动公开情况 and 1.… are sub-headings inside a section
    for sec, alternatives in _KEYS:
        for words in alternatives:
            if all(w in t for w in words) and (numbered or (t.endswith(("情况", "事项")) and len(t) <= 24)):
                return sec
    return None


def find_sections(lines: list[Line]) -> dict[str, int]:
    """Section id → index (into ``lines``) of its heading; the first heading of each wins."""
    found: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.row.table is not None and line.row.aligned:
            continue
        sec = heading_of(line)
        if sec and sec not in found:
            found[sec] = i
    return found


def regions(found: dict[str, int], n: int) -> dict[str, tuple[int, int]]:
    """Section id → (first, end) line indices, each ending where the next heading starts."""
    starts = sorted((i, s) for s, i in found.items())
    out: dict[str, tuple[int, int]] = {}
    for k, (i, s) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else n
        out[s] = (i, end)
    return out
