"""Characters grouped into text lines, for running text and for the text inside table cells.

A line is the characters whose vertical centres agree, left to right; a gap wider than half an em
between two characters reads as a space.
"""

from __future__ import annotations

from nianbao.parsing.encoding import normalize_space
from nianbao.parsing.pdf.model import Char, Line


def line_groups(chars: list[Char]) -> list[list[Char]]:
    """Group characters into lines by vertical centre, top to bottom, each left to right."""
    groups: list[list[Char]] = []
    centre = 0.0
    for c in sorted(chars, key=lambda c: c.cy):
        h = c.bottom - c.top
        if groups and abs(c.cy - centre) <= 0.45 * max(h, groups[-1][0].bottom - groups[-1][0].top):
            groups[-1].append(c)
            centre += (c.cy - centre) / len(groups[-1])
        else:
            groups.append([c])
            centre = c.cy
    for g in groups:
        g.sort(key=lambda c: c.x0)
    return groups


def text_lines(chars: list[Char]) -> list[Line]:
    """The text lines of a set of characters."""
    return [line for g in line_groups(chars) if (line := _make_line(g)) is not None]


def _make_line(chars: list[Char]) -> Line | None:
    parts: list[str] = []
    prev: Char | None = None
    for c in chars:
        if prev is not None:
            gap = c.x0 - prev.x1
            if gap > max(3.0, 0.5 * (c.bottom - c.top)):  # wider than half an em: a space
                parts.append(" ")
        parts.append(c.ch)
        prev = c
    text = normalize_space("".join(parts))
    if not text:
        return None
    return Line(
        text,
        min(c.x0 for c in chars),
        max(c.x1 for c in chars),
        min(c.top for c in chars),
        max(c.bottom for c in chars),
    )
