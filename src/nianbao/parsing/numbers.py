"""Cell text → number, per the cell's kind. Never a silent 0.

Blank cells and the marks real reports print for "none" (``—``, ``-``, ``/``, ``无``) read as 0
and are flagged ``blank``; full-width digits, thousands separators and surrounding spaces are
normal. Anything else is invalid (``value is None``), and so is a number no report prints: more
than :data:`MAX_DIGITS` digits (Python refuses to convert them) or an amount too large for a float.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

ZERO_MARKS = frozenset({"", "-", "—", "–", "―", "‐", "−", "--", "——", "/", "\\", "无", "／"})
_COUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)")
_SIGNED = re.compile(r"([+\-−]?)(\d{1,3}(?:,\d{3})+|\d+)")
_AMOUNT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(万元|元)?")
MAX_DIGITS = 4_000
"""Longest digit string read as a number: ``int()`` refuses more than 4,300 digits (a ``ValueError``)."""


class Parsed(NamedTuple):
    value: int | float | None
    blank: bool


def clean(text: str) -> str:
    """NFKC (full-width digits and signs become ASCII) and strip every kind of space."""
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip().replace("\u00a0", "").replace("\u3000", "")


def parse_number(text: str, kind: str) -> Parsed:
    """Parse a cell's text as a value of ``kind`` (``count``, ``signed_count``, ``amount``)."""
    if len(text) > MAX_DIGITS and sum(ch.isdigit() for ch in text) > MAX_DIGITS:
        return Parsed(None, False)
    if text.isdigit() and text.isascii():  # most cells: plain digits
        return _checked(float(text) if kind == "amount" else int(text))
    t = clean(text)
    if t in ZERO_MARKS:
        return Parsed(0.0 if kind == "amount" else 0, True)
    if kind == "count":
        if _COUNT.fullmatch(t):
            return Parsed(int(t.replace(",", "")), False)
        return Parsed(None, False)
    if kind == "signed_count":
        m = _SIGNED.fullmatch(t)
        if m:
            n = int(m.group(2).replace(",", ""))
            return Parsed(-n if m.group(1) in ("-", "−") else n, False)
        return Parsed(None, False)
    m = _AMOUNT.fullmatch(t)
    if m:
        whole = m.group(1).replace(",", "")
        return _checked(float(f"{whole}.{m.group(2)}" if m.group(2) else whole))
    return Parsed(None, False)


def _checked(value: int | float) -> Parsed:
    """A parsed value, or invalid when it is an amount too large for a float (``inf``)."""
    return Parsed(value if not isinstance(value, float) or math.isfinite(value) else None, False)


@lru_cache(maxsize=8192)
def is_value_like(text: str) -> bool:
    """True when a cell holds a value (valid or not) rather than a label.

    A label has at least two CJK characters; ``12件?``, ``O`` and ``1O`` are (invalid) values.
    """
    if text.isascii():
        return True
    cjk = 0
    for ch in text:  # the common case, a label, is decided before any normalisation
        if "\u4e00" <= ch <= "\u9fff":
            cjk += 1
            if cjk >= 2:
                return False
    t = clean(text)
    if t in ZERO_MARKS:
        return True
    cjk = 0
    for ch in t:
        if "\u4e00" <= ch <= "\u9fff":
            cjk += 1
            if cjk >= 2:
                return False
    return True
