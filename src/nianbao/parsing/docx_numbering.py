"""Word automatic numbering for the DOCX reader, and the small XML look-ups it shares with it.

Why it matters: section headings and table labels (``一、`` ``（三）`` ``1.``) are often numbered by
Word, so the number is not in the text; :class:`Numbering` renders it from ``numbering.xml``, also
through paragraph styles, in document order (the counters advance as paragraphs are read).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
VAL = f"{W}val"
# fmt: off
P, R, T, TBL, TR, TC, VANISH = f"{W}p", f"{W}r", f"{W}t", f"{W}tbl", f"{W}tr", f"{W}tc", f"{W}vanish"
PPR, RPR, TRPR, TCPR, NUMPR, PSTYLE = f"{W}pPr", f"{W}rPr", f"{W}trPr", f"{W}tcPr", f"{W}numPr", f"{W}pStyle"
GRIDSPAN, VMERGE, HMERGE = f"{W}gridSpan", f"{W}vMerge", f"{W}hMerge"
# fmt: on


def find_child(el: Any, tag: str) -> Any:
    """``el.find(tag)`` for one child tag. Word writes property elements (``w:pPr``, ``w:rPr``,
    ``w:tcPr``…) as the first child, so that child is tried before the general search."""
    n = len(el)
    if not n:
        return None
    first = el[0]
    if first.tag == tag:
        return first
    return el.find(tag) if n > 1 else None


def w_val(el: Any, *tags: str, default: str | None = None) -> str | None:
    """``w:val`` of the first element at path ``tags`` under ``el`` (``el.find("a/b")`` semantics)."""
    if el is None:
        return default
    found = find_child(el, tags[0])
    if len(tags) == 2 and found is not None:
        inner = find_child(found, tags[1])
        if inner is None:  # "a/b" is the first b under any a: a later a may have one
            inner = next((b for a in el.iterchildren(tags[0]) for b in a.iterchildren(tags[1])), None)
        found = inner
    if found is None:
        return default
    return found.get(VAL, default)


def to_int(value: str | None, default: int) -> int:
    """An integer attribute; junk or absence → ``default``."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"


def _chinese(n: int, digits: str = _CN_DIGITS, ten: str = "十") -> str:
    if n <= 0 or n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else (ten if tens == 1 else digits[tens] + ten)
    return head + (digits[ones] if ones else "") if n >= 10 else digits[n]


def _roman(n: int) -> str:
    out = ""
    for value, sym in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while n >= value:
            out += sym
            n -= value
    return out


MAX_LEVEL = 8
"""Word lists have levels 0–8; a level number beyond is junk and is ignored (the label loop runs
over every level up to the paragraph's)."""
_MAX_LETTERS = 780
"""``upperLetter`` repeats the letter once per round of 26 (``AA`` is 27), so a counter of a million
would render a 38,000-letter label; Word's own lists stop at 780 (30 × ``Z``), beyond that: decimal."""
_MAX_LEVEL_TEXT = 64
"""Characters of a level's label template (``第%1章``, ``（%2）``): Word's are a few. Each ``%n`` can
render to 30 characters and every numbered paragraph gets the label, so a long template is cut."""
_MAX_ROMAN = 3999
"""The largest number Roman numerals write without a thousand ``M``s; beyond that: decimal."""


def format_number(n: int, fmt: str) -> str:
    """Render counter ``n`` in a Word ``w:numFmt``; unknown formats fall back to decimal."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if (fmt in ("upperLetter", "lowerLetter") and n > _MAX_LETTERS) or (
        fmt in ("upperRoman", "lowerRoman") and n > _MAX_ROMAN
    ):
        return str(n)
    table = {
        "chineseCounting": lambda: _chinese(n),
        "chineseCountingThousand": lambda: _chinese(n),
        "taiwaneseCountingThousand": lambda: _chinese(n),
        "chineseLegalSimplified": lambda: _chinese(n, _CN_LEGAL, "拾"),
        "ideographTraditional": lambda: _TIANGAN[(n - 1) % 10],
        "ideographZodiac": lambda: _DIZHI[(n - 1) % 12],
        "decimalEnclosedCircle": lambda: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
        "decimalEnclosedCircleChinese": lambda: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
        "decimalFullWidth": lambda: "".join(chr(0xFF10 + int(d)) for d in str(n)),
        "decimalZero": lambda: f"{n:02d}",
        "upperRoman": lambda: _roman(n),
        "lowerRoman": lambda: _roman(n).lower(),
        "upperLetter": lambda: letters[(n - 1) % 26] * ((n - 1) // 26 + 1),
        "lowerLetter": lambda: letters[(n - 1) % 26].lower() * ((n - 1) // 26 + 1),
        "none": lambda: "",
    }
    return table.get(fmt, lambda: str(n))()


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    legal: bool = False


@dataclass
class Numbering:
    """Word list numbering: level definitions, style defaults and running counters."""

    styles: Callable[[], Any]
    """Gives the ``w:styles`` root or ``None``: called only when a paragraph of a numbered document
    names a style, because parsing Word's styles part costs more than reading the document."""
    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # numId → ilvl → level
    counter_key: dict[str, str] = field(default_factory=dict)  # numId → key of its counters
    style_num: dict[str, tuple[str | None, int | None, str | None]] | None = None
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def from_xml(cls, numbering: Any, styles: Callable[[], Any]) -> Numbering:
        """Numbering from the ``w:numbering`` root (or ``None``); ``styles`` gives the ``w:styles`` root."""
        self = cls(styles=styles)
        if numbering is not None:
            self._load_numbering(numbering)
        return self

    def _load_styles(self) -> None:
        """Style id → (numId, ilvl, basedOn), read from the styles part the first time it is needed."""
        styles = self.styles()
        self.style_num = {}
        if styles is None:
            return
        for st in styles.iterchildren(f"{W}style"):
            num_pr = st.find(f"{W}pPr/{W}numPr")
            based = w_val(st, f"{W}basedOn")
            num_id = w_val(num_pr, f"{W}numId") if num_pr is not None else None
            ilvl = w_val(num_pr, f"{W}ilvl") if num_pr is not None else None
            self.style_num[st.get(f"{W}styleId") or ""] = (num_id, to_int(ilvl, 0) if ilvl else None, based)

    def _load_numbering(self, root: Any) -> None:
        abstract: dict[str, dict[int, _Level]] = {}
        for an in root.iterchildren(f"{W}abstractNum"):
            lvls: dict[int, _Level] = {}
            for lvl in an.iterchildren(f"{W}lvl"):
                ilvl = to_int(lvl.get(f"{W}ilvl"), 0)
                if not 0 <= ilvl <= MAX_LEVEL:
                    continue
                lvls[ilvl] = _Level(
                    start=to_int(w_val(lvl, f"{W}start"), 1),
                    fmt=w_val(lvl, f"{W}numFmt") or "decimal",
                    text=(w_val(lvl, f"{W}lvlText") or "")[:_MAX_LEVEL_TEXT],
                    legal=lvl.find(f"{W}isLgl") is not None,
                )
            abstract[an.get(f"{W}abstractNumId") or ""] = lvls
        for num in root.iterchildren(f"{W}num"):
            num_id = num.get(f"{W}numId") or ""
            aid = w_val(num, f"{W}abstractNumId") or ""
            lvls = {k: _Level(v.start, v.fmt, v.text, v.legal) for k, v in abstract.get(aid, {}).items()}
            overridden = False
            for ov in num.iterchildren(f"{W}lvlOverride"):
                ilvl = to_int(ov.get(f"{W}ilvl"), 0)
                start = w_val(ov, f"{W}startOverride")
                if start is not None and ilvl in lvls:
                    lvls[ilvl].start = to_int(start, 1)
                    overridden = True
            self.levels[num_id] = lvls
            self.counter_key[num_id] = f"num:{num_id}" if overridden else f"abs:{aid}"

    def _style_numpr(self, style: str | None) -> tuple[str | None, int | None]:
        if not style:
            return None, None
        if self.style_num is None:
            self._load_styles()
        assert self.style_num is not None
        seen: set[str] = set()
        while style and style not in seen:
            seen.add(style)
            num_id, ilvl, based = self.style_num.get(style, (None, None, None))
            if num_id is not None:
                return num_id, ilvl
            style = based
        return None, None

    def label(self, p: Any) -> str:
        """The rendered list label of paragraph ``p`` (advancing the counters), or ``""``."""
        if not self.levels:  # nothing is numbered: no need to look at styles
            return ""
        ppr = find_child(p, PPR)
        num_pr = style = None
        if ppr is not None:
            for child in ppr:  # one pass for the first w:numPr and the first w:pStyle
                if child.tag == NUMPR and num_pr is None:
                    num_pr = child
                elif child.tag == PSTYLE and style is None:
                    style = child.get(VAL)
        style_id, style_ilvl = self._style_numpr(style)
        num_id = (w_val(num_pr, f"{W}numId") if num_pr is not None else None) or style_id
        ilvl = to_int(w_val(num_pr, f"{W}ilvl"), style_ilvl or 0) if num_pr is not None else (style_ilvl or 0)
        if not num_id or num_id == "0" or num_id not in self.levels:
            return ""
        levels = self.levels[num_id]
        if ilvl not in levels:
            return ""
        counts = self.counters.setdefault(self.counter_key[num_id], {})
        counts[ilvl] = counts.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counts if k > ilvl]:
            del counts[deeper]
        if levels[ilvl].fmt == "bullet":
            return ""
        text = levels[ilvl].text
        for k in range(ilvl, -1, -1):
            lvl = levels.get(k, _Level())
            n = counts.get(k, lvl.start)
            fmt = "decimal" if (levels[ilvl].legal and k < ilvl) else lvl.fmt
            text = text.replace(f"%{k + 1}", format_number(n, fmt))
        return text
