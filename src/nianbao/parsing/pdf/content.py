"""What a decoded content stream draws: the operands of its ``Do`` operators, and whether it shows text.

Why a search and not a parser: this runs on every PDF before PDFium loads a page
(:mod:`nianbao.parsing.pdf.forms`), and a content stream can be megabytes. The search counts
``/Name Do`` in C (regular expressions); only the rare ``Do`` whose operand is not a name is looked
at one by one. A ``/Name Do`` inside a string or a comment counts too, so the result is an upper
bound, exact for real content.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from nianbao.parsing.pdf.streams import text_of

EXAMINE = 100_000
"""``Do`` operators the walk looks at one by one in one PDF (about 1 µs each); content with more is
counted as if each drew the costliest XObject it can name. A report has at most a few thousand."""

_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
_NAMED_DO = re.compile(rb"/(" + _REGULAR + rb"*+)(?:[\x00\t\n\x0c\r ]++|%[^\r\n]*+)++Do(?!" + _REGULAR + rb")")
"""``/Name Do``, whitespace or comments between (names stop at whitespace and delimiters)."""
_DO = re.compile(rb"Do(?!" + _REGULAR + rb")")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_HEX_STRING = re.compile(rb"[0-9A-Fa-f\x00\t\n\x0c\r ]*")
_WHITESPACE = frozenset(b"\x00\t\n\x0c\r ")
_DELIMITERS = frozenset(b"()<>[]{}/%") | _WHITESPACE
_TEXT_OPERATORS = (b"Tj", b"TJ", b"'", b'"')
_ANY = object()
"""The operand of a ``Do`` the scan cannot read: it may name any entry."""
_NOTHING = object()
"""A ``Do`` inside a string: no operator at all."""


@dataclass(slots=True)
class Ops:
    """What a content stream draws: ``Do`` operands by lookup key, unreadable ones, text shown."""

    names: Counter[str]
    any_times: int
    text: bool
    examined: int
    """``Do`` looked at one by one."""


def content_ops(data: bytes, examine: int = EXAMINE) -> Ops:
    """The ``Do`` operands of decoded content (by lookup key), those it cannot read, and whether it
    shows text. Content with more than ``examine`` ``Do`` is not read operator by operator (about
    1 µs each): each is taken to draw the costliest XObject (only absurd content has that many)."""
    text = any(op in data for op in _TEXT_OPERATORS)
    candidates = data.count(b"Do")
    if candidates > examine:
        return Ops(Counter(), candidates, text, 0)
    names: Counter[str] = Counter()
    named_at = set()
    for m in _NAMED_DO.finditer(data):
        names[_name(m[1])] += 1
        named_at.add(m.end() - 2)
    any_times = 0
    if len(named_at) < candidates:
        for m in _DO.finditer(data):
            at = m.start()
            if at in named_at or (at > 0 and data[at - 1] not in _DELIMITERS):
                continue
            operand = _operand(data, at)
            if operand is _ANY:
                any_times += 1
            elif isinstance(operand, str):
                names[operand] += 1
    return Ops(names, any_times, text, candidates)


def _operand(data: bytes, at: int) -> object:
    """The lookup key of a ``Do`` at ``at`` whose operand is not a name (PDFium looks a string or a
    boolean up by its text, anything else as the empty name): a string, :data:`_ANY` when the
    operand is a string too complicated to read here, :data:`_NOTHING` inside a string."""
    i = at - 1
    while i >= 0 and data[i] in _WHITESPACE:
        i -= 1
    if i < 0:
        return ""
    c = data[i : i + 1]
    if c == b"(":
        return _NOTHING
    if c == b")":
        start = data.rfind(b"(", 0, i)
        text = data[start + 1 : i]
        if start < 0 or any(ch in text for ch in b"()\\"):
            return _ANY
        return text_of(text)
    if c == b">":
        if i > 0 and data[i - 1 : i] == b">":
            return ""
        start = data.rfind(b"<", 0, i)
        digits = data[start + 1 : i]
        if start < 0 or not _HEX_STRING.fullmatch(digits):
            return _ANY
        digits = bytes(ch for ch in digits if ch not in _WHITESPACE)
        return text_of(bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii")))
    if data[i] in _DELIMITERS:
        return ""
    start = i
    while start > 0 and data[start - 1] not in _DELIMITERS:
        start -= 1
    word = data[start : i + 1]
    return word.decode("ascii") if word in (b"true", b"false") else ""


def _name(raw: bytes) -> str:
    """A name as pdfminer keys dictionaries: ``#xx`` escapes decoded, UTF-8 or ``str(bytes)``."""
    if b"#" in raw:
        raw = _NAME_ESCAPE.sub(lambda m: bytes((int(m[1], 16),)), raw)
    return text_of(raw)


