"""Characters of a page with their boxes: from PDFium, or from pdfminer where PDFium drops text.

PDFium quirks handled here: some vertical-writing fonts get absurd "loose" character boxes (the
glyph's own box is used instead); PDFium silently drops text objects whose glyphs it cannot measure
(a one-character line in a non-embedded CJK font such as ``STSong-Light``, used by reportlab and
iText) — such pages are read with pdfminer instead (slower, same result). Rotated text (watermarks)
is left out, and characters without a Unicode mapping are counted so the reader can refuse gibberish.
"""

from __future__ import annotations

import ctypes
import io
import math
from typing import Any

from nianbao.parsing.pdf.model import Char

_SANE_BOX = 40.0
"""A loose character box larger than this (points) is checked against the glyph's own box."""


def dropped_text(obj: Any, textpage: Any) -> bool:
    """A text object PDFium gives no size and no text (its text page leaves the object out)."""
    import pypdfium2.raw as R

    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if not R.FPDFPageObj_GetBounds(obj, left, bottom, right, top) or right.value - left.value >= 0.01:
        return False
    return R.FPDFTextObj_GetText(obj, textpage, None, 0) <= 2  # the length counts the terminator


class MinerFallback:
    """pdfminer (through pdfplumber) characters, for pages PDFium cannot fully read.

    PDFium leaves out any text object whose glyphs it cannot measure — a one-character line in a
    CJK font that is not embedded (``STSong-Light`` from reportlab or iText) on a machine without
    CJK fonts. pdfminer reads the same text from the font's CMap, ten times slower, so it is only
    opened when a page has such an object.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pdf: Any = None

    def chars(self, index: int) -> tuple[list[Char], int]:
        if self.pdf is None:
            import pdfplumber

            from nianbao.parsing.pdf.miner_limits import install

            install()  # pdfminer expands font ranges without bound
            self.pdf = pdfplumber.open(io.BytesIO(self.data))
        out: list[Char] = []
        unmapped = 0
        for c in self.pdf.pages[index].chars:
            a, b = c["matrix"][0], c["matrix"][1]
            angle = math.atan2(b, a) % (2 * math.pi)
            if min(abs(angle - k * math.pi / 2) for k in range(5)) > 0.05:
                continue
            text = c["text"]
            if text.startswith("(cid:"):
                unmapped += 1
            out.extend(Char(ch, c["x0"], c["x1"], c["top"], c["bottom"]) for ch in text)
        return out, unmapped

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()


def pdfium_chars(textpage: Any, top: float) -> tuple[list[Char], int]:
    """Non-generated characters with loose boxes in top-down coordinates, and the unmapped count."""
    import pypdfium2.raw as R

    raw = textpage.raw
    n = R.FPDFText_CountChars(raw)
    rect = R.FS_RECTF()
    tight = tuple(ctypes.c_double() for _ in range(4))
    out: list[Char] = []
    unmapped = 0
    pending_high = 0
    for i in range(n):
        u = R.FPDFText_GetUnicode(raw, i)
        if 0xD800 <= u <= 0xDBFF:
            pending_high = u
            continue
        if 0xDC00 <= u <= 0xDFFF and pending_high:
            u = 0x10000 + ((pending_high - 0xD800) << 10) + (u - 0xDC00)
        pending_high = 0
        if u in (0, 10, 13, 0xFFFE, 0xFFFF) or R.FPDFText_IsGenerated(raw, i) == 1:
            continue
        angle = R.FPDFText_GetCharAngle(raw, i)
        if angle > 0 and min(abs(angle - k * math.pi / 2) for k in range(5)) > 0.05:
            continue  # rotated watermark text
        box = _char_box(raw, i, rect, tight)
        if box is None:
            continue
        if R.FPDFText_HasUnicodeMapError(raw, i) == 1:
            unmapped += 1
        left, bottom, right, upper = box
        out.append(Char(chr(u), left, right, top - upper, top - bottom))
    return out, unmapped


def _char_box(raw: Any, i: int, rect: Any, tight: tuple[Any, ...]) -> tuple[float, float, float, float] | None:
    """The loose (font-height) box of a character, or a square around its glyph when the loose box is absurd.

    PDFium computes loose boxes from the unscaled font size for some vertical-writing fonts (洪泽
    2023: 200-point boxes around 9-point glyphs), which would put the glyph in the wrong cell.
    """
    import pypdfium2.raw as R

    if not R.FPDFText_GetLooseCharBox(raw, i, rect):
        return None
    box = (rect.left, rect.bottom, rect.right, rect.top)
    if box[2] - box[0] < _SANE_BOX and box[3] - box[1] < _SANE_BOX:
        return box
    if not R.FPDFText_GetCharBox(raw, i, *tight):
        return box
    left, right, bottom, top = (v.value for v in tight)
    side = max(right - left, top - bottom)
    if side > 0 and (box[2] - box[0] > 3 * side + 2 or box[3] - box[1] > 3 * side + 2):
        cx, cy = (left + right) / 2, (bottom + top) / 2
        return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2
    return box
