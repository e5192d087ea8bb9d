"""The page loop: each page's characters, ruling lines and tables, then its running text.

PDFium is asked once per page for its objects (ruling lines, dropped-text check) and its text page
(characters); pdfminer is opened only when a page has text PDFium cannot read. Tables are found on
pages with at least four ruling edges; when no page of the document has a ruled table, the
text-strategy fallback gets a chance. Characters not owned by a table cell become running text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nianbao.parsing.limits import (
    MAX_PDF_CHARS,
    MAX_PDF_OBJECTS,
    MAX_PDF_SEGMENTS,
    MAX_PDF_TABLE_WORK,
    Budget,
)
from nianbao.parsing.pdf.chars import MinerFallback, dropped_text, pdfium_chars
from nianbao.parsing.pdf.lines import text_lines
from nianbao.parsing.pdf.model import Char, Page
from nianbao.parsing.pdf.objects import OBJ_TEXT, page_objects
from nianbao.parsing.pdf.rules import ruling_edges
from nianbao.parsing.pdf.tables import ruled_tables
from nianbao.parsing.pdf.text_tables import text_strategy_tables


@dataclass(slots=True)
class _Budgets:
    """What one file may cost, counted before each page's characters, objects and path segments are read."""

    chars: Budget = field(default_factory=lambda: Budget(MAX_PDF_CHARS, "characters"))
    objects: Budget = field(default_factory=lambda: Budget(MAX_PDF_OBJECTS, "page objects"))
    segments: Budget = field(default_factory=lambda: Budget(MAX_PDF_SEGMENTS, "path segments"))
    finder: Budget = field(default_factory=lambda: Budget(MAX_PDF_TABLE_WORK, "table finder steps"))


def read_pages(pdf: Any, data: bytes) -> tuple[list[Page], int, int]:
    """Every page's text lines and tables, with the visible and the unmapped character counts of the file.

    A file over one of the budgets of :mod:`nianbao.parsing.limits` is refused as it is read.
    """
    pages: list[Page] = []
    page_chars: list[list[Char]] = []
    visible = unmapped = 0
    fallback = MinerFallback(data)
    budgets = _Budgets()
    try:
        for index in range(len(pdf)):
            chars, bad, edges, height = _read_page(pdf, index, fallback, budgets)
            visible += sum(1 for c in chars if not c.ch.isspace())
            unmapped += bad
            tables = ruled_tables(edges, chars, index + 1, budgets.finder) if len(edges) >= 4 else []
            pages.append(Page(index + 1, height, [], tables))
            page_chars.append(chars)
    finally:
        fallback.close()
    if not any(p.tables for p in pages):
        for page, chars in zip(pages, page_chars, strict=True):
            page.tables = text_strategy_tables(chars, page.number, budgets.finder)
    for page, chars in zip(pages, page_chars, strict=True):
        owned = {id(ch) for t in page.tables for cell in t.cells for ch in cell.chars}
        page.lines = text_lines([c for c in chars if id(c) not in owned])
    return pages, visible, unmapped


def _read_page(
    pdf: Any, index: int, fallback: MinerFallback, budgets: _Budgets
) -> tuple[list[Char], int, list[dict[str, Any]], float]:
    """Characters, unmapped count, ruling edges and height of one page."""
    page = pdf[index]
    try:
        top = page.get_mediabox()[3]
        height = page.get_height()
        objects = list(page_objects(page.raw, budgets.objects))
        edges = ruling_edges(objects, top, budgets.segments)
        textpage = page.get_textpage()
        try:
            counted = max(textpage.count_chars(), 0)
            budgets.chars.spend(counted)  # before either reader reads them (pdfminer is the slower)
            if any(dropped_text(obj, textpage.raw) for obj, _, kind in objects if kind == OBJ_TEXT):
                chars, bad = fallback.chars(index)
                budgets.chars.spend(max(len(chars) - counted, 0))  # the text PDFium dropped
            else:
                chars, bad = pdfium_chars(textpage, top)
        finally:
            textpage.close()
    finally:
        page.close()
    return chars, bad, edges, height
