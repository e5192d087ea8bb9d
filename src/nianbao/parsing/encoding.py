"""Bytes → text for the text-like formats (plain text, HTML), and the whitespace rules every reader shares.

Why this exists: reports arrive from thousands of agency CMSs and desktops. The same table may be
UTF-8, GBK/GB2312 (declared or not), GB18030 or UTF-16 (Windows "Unicode" text). Guessing wrong
silently turns 自然人 into mojibake, and the label reader then finds nothing. So decoding goes from
the most certain evidence to the least:

1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32);
2. UTF-16 without a byte-order mark, told by where its NUL bytes fall (see :func:`utf16_without_bom`);
3. strict UTF-8 (almost never decodes GBK Chinese by accident);
4. a declared charset (``<meta charset>``, ``http-equiv`` content type, ``<?xml encoding=``);
   GB2312 and GBK are decoded as GB18030, their superset, because "gb2312" pages routinely use
   GBK-only characters;
5. strict GB18030 when it decodes cleanly *and* the result looks like Chinese;
6. UTF-8, then GB18030, with a few bad bytes replaced: one stray byte from a bad copy or a file cut
   off mid-character must not turn the whole report into a wrong guess;
7. charset-normalizer (imported lazily: it is slow to import and rarely needed).

Line endings are normalised to ``\\n``.

The second half of the module is the whitespace rule shared by the HTML, DOCX, XLSX and PDF readers,
so a label reads the same whatever the format:

* every kind of space (NBSP from ``&nbsp;``, the ideographic space U+3000, tabs, line breaks) is a
  space; zero-width characters are removed; runs collapse to one space; the ends are stripped;
* a space between two CJK characters (ideographs, CJK and full-width punctuation) is dropped — it
  is an artefact of justification, letter-spacing or source line wrapping, never meaningful in
  Chinese (``结 果`` → ``结果``);
* pieces of one cell (``<br>``, paragraphs, wrapped PDF lines) are joined with nothing when both
  sides are CJK and with one space otherwise (``（四）无法`` + ``提供`` → ``（四）无法提供``;
  ``2023`` + ``年`` → ``2023 年``).
"""

from __future__ import annotations

import codecs
import re

_DECLARED = re.compile(
    rb"""(?:<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+))"""
    rb"""|(?:<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+))""",
    re.IGNORECASE,
)
_GB_ALIASES = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "ms936", "euc-cn", "gb18030", "x-euc-cn"}

_SPACE_CHARS = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\r\n\f\v"
_SPACES = re.compile(f"[ {_SPACE_CHARS}]+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_UNUSUAL = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x1c-\x1f\x85\u2028\u2029]")
"""Zero-width characters, and the characters ``str.isspace`` counts as spaces that the rule does
not (``\\x1c``–``\\x1f``, NEL, line/paragraph separators). Without them, ``" ".join(text.split())``
is exactly the collapse-and-strip of :data:`_SPACES`, at a fraction of the cost."""
_QUOTES_AND_DASHES = frozenset("\u2018\u2019\u201c\u201d\u2014\u2026\u00b7")
_CJK_CLASS = (
    "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff"
    "\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"
)
"""Exactly the characters :func:`is_cjk` accepts, as a regex class: scanning in C instead of a
Python loop per character is what makes decoding and whitespace normalisation cheap."""
_CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK_CLASS}]) (?=[{_CJK_CLASS}])")
_ASCII_RUN = re.compile("[\x00-\x7f]+")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def decode_text(data: bytes) -> str:
    """Decode a text or HTML file, trying the most certain evidence first (see the module docstring)."""
    text = _decode(data)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes) -> str:
    bom = _decode_bom(data)
    if bom is not None:
        return bom
    utf16 = utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = declared_charset(data)
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and looks_chinese(text):
        return text
    return _decode_lenient(data) or _decode_guess(data)


def _decode_bom(data: bytes) -> str | None:
    """Decode by byte-order mark, or None when there is none."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    return None


def utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark (some export tools do), or None.

    A report has digits, spaces and line breaks; in UTF-16 each of them carries a NUL byte, in the
    odd positions for little-endian and the even ones for big-endian. No other text encoding has
    NULs at all, and binary data has them on both sides. CJK characters can put a NUL on the other
    side too (一 is U+4E00), so one side need only clearly dominate; the strict decode and the
    Chinese-looking result then decide.
    """
    if len(data) % 2:
        return None
    head = data[:65536]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) < 8 or min(even, odd) * 4 > max(even, odd):
        return None
    try:
        text = data.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return None
    return text if "\x00" not in text and looks_chinese(text) else None


def _decode_lenient(data: bytes) -> str | None:
    """UTF-8 or GB18030 with a few undecodable bytes replaced by U+FFFD, or None when there are many.

    UTF-8 first: its byte patterns almost never occur in GBK text by accident, whereas UTF-8 Chinese
    decodes as GB18030 into plausible-looking wrong characters.
    """
    for codec in ("utf-8", "gb18030"):
        text = data.decode(codec, errors="replace")
        bad = text.count("\ufffd")
        non_ascii = len(_ASCII_RUN.sub("", text))
        if bad <= max(8, non_ascii // 200) and looks_chinese(text.replace("\ufffd", "")):
            return text
    return None


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML/XML file declares in its first 4 KB, as a Python codec name (GB* → gb18030)."""
    m = _DECLARED.search(data[:4096])
    if not m:
        return None
    name = (m.group(1) or m.group(2) or b"").decode("ascii", "ignore").strip().lower()
    if not name:
        return None
    if name in _GB_ALIASES or name.startswith("gb"):
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def looks_chinese(text: str) -> bool:
    """True when most non-ASCII characters are CJK (a clean GB18030 decode of real Chinese text)."""
    non_ascii = _ASCII_RUN.sub("", text)  # regexes, not a loop per character: pages run to 100 KB
    if not non_ascii:
        return True
    if _PRIVATE_USE.search(non_ascii):  # private use area: a wrong guess
        return False
    cjk = len(non_ascii) - len(_CJK_RUN.sub("", non_ascii))
    return cjk >= 0.8 * len(non_ascii)


def _decode_guess(data: bytes) -> str:
    """Last resort: charset-normalizer, then UTF-8 with replacement characters."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("utf-8", errors="replace")


# --- whitespace and joining rules shared by all readers -------------------------------------------


def is_cjk(ch: str) -> bool:
    """True for CJK ideographs, CJK/full-width punctuation and forms, and Chinese quotes and dashes."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFE30 <= o <= 0xFE4F
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x3FFFF
        or ch in _QUOTES_AND_DASHES
    )


def normalize_space(text: str) -> str:
    """Collapse every kind of whitespace to one space, drop spaces between CJK characters, strip."""
    if _UNUSUAL.search(text) is None:  # the common case, in C: split() knows exactly our spaces
        text = " ".join(text.split())
        if " " not in text or text.isascii():
            return text
        return _SPACE_BETWEEN_CJK.sub("", text)
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if " " not in text:
        return text
    return _SPACE_BETWEEN_CJK.sub("", text)


def join_pieces(pieces: list[str]) -> str:
    """Join the lines or paragraphs of one cell: nothing between two CJK characters, else one space."""
    out = ""
    for raw in pieces:
        piece = normalize_space(raw)
        if not piece:
            continue
        if not out:
            out = piece
        elif is_cjk(out[-1]) and is_cjk(piece[0]):
            out += piece
        else:
            out += " " + piece
    return out
