"""PDF reports → :class:`Document`: running text in reading order and the ruled tables as grids.

Why it is built this way: pdfplumber's own page model (pdfminer) costs about 0.1 s per page, 0.5 s
per report — far from the goal of five reports a second. PDFium (pypdfium2) gives the characters with
their boxes and the vector paths ten times faster, so this package reads both from PDFium and hands
the ruling lines to **pdfplumber's table finder** (``merge_edges`` → ``edges_to_intersections`` →
``intersections_to_cells`` → ``cells_to_tables``, the "lines" strategy with its default tolerances).
Only pages with ruling lines run the finder.

One module per stage, each explaining its own choices:

* :mod:`~nianbao.parsing.pdf.pages` — the page loop: characters, ruling lines, tables and text lines.
* :mod:`~nianbao.parsing.pdf.objects` — PDFium page objects, forms entered, with their transforms.
* :mod:`~nianbao.parsing.pdf.chars` — characters from PDFium; pdfminer for pages PDFium cannot read.
* :mod:`~nianbao.parsing.pdf.lines` — characters grouped into text lines.
* :mod:`~nianbao.parsing.pdf.rules` — ruling lines from the visible vector paths.
* :mod:`~nianbao.parsing.pdf.tables` — pdfplumber's lines strategy and the grid built from its cells.
* :mod:`~nianbao.parsing.pdf.text_tables` — the text-strategy fallback when no page has a ruled table.
* :mod:`~nianbao.parsing.pdf.margins` — page numbers and running headers/footers dropped.
* :mod:`~nianbao.parsing.pdf.stitch` — a table continued over a page break made one table.
* :mod:`~nianbao.parsing.pdf.rows` — text lines and tables emitted as rows in reading order.
* :mod:`~nianbao.parsing.pdf.refusals` — files that cannot be read, and what to tell the uploader.
* :mod:`~nianbao.parsing.pdf.forms` — forms nested into millions of drawings, refused before PDFium
  loads a page; :mod:`~nianbao.parsing.pdf.content` finds what a content stream draws, and
  :mod:`~nianbao.parsing.pdf.streams` decodes streams for it within a budget.
* :mod:`~nianbao.parsing.pdf.model` — the page-geometry records passed between the stages.
"""

from __future__ import annotations

import re
from typing import Any

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Document
from nianbao.parsing.encoding import is_cjk, normalize_space
from nianbao.parsing.limits import MAX_PDF_PAGES, MSG_TOO_MANY_PAGES
from nianbao.parsing.pdf.forms import check_drawings
from nianbao.parsing.pdf.margins import drop_margins
from nianbao.parsing.pdf.pages import read_pages
from nianbao.parsing.pdf.refusals import (
    MIN_TEXT_CHARS,
    MSG_CORRUPT,
    MSG_ENCRYPTED,
    MSG_GARBLED,
    MSG_NO_TEXT,
    bad_file_errors,
    open_pdf,
)
from nianbao.parsing.pdf.rows import emit

__all__ = ["MSG_CORRUPT", "MSG_ENCRYPTED", "MSG_GARBLED", "MSG_NO_TEXT", "read"]


def read(data: bytes) -> Document:
    """Read a PDF file into the intermediate form."""
    pdf = open_pdf(data)
    try:
        if len(pdf) > MAX_PDF_PAGES:
            raise ParseFailed(MSG_TOO_MANY_PAGES, f"{len(pdf)} pages")
        check_drawings(data)  # before PDFium loads a page (and expands every form drawn in it)
        pages, visible, unmapped = read_pages(pdf, data)
        title = _title_hint(pdf)
    except bad_file_errors() as exc:  # PDFium refusing a damaged page, pdfminer syntax errors…
        raise ParseFailed(MSG_CORRUPT, f"{type(exc).__name__}: {exc}") from None
    finally:
        pdf.close()
    if visible < MIN_TEXT_CHARS:
        raise ParseFailed(MSG_NO_TEXT, f"{visible} visible characters on {len(pages)} pages")
    if unmapped > visible * 0.5:
        raise ParseFailed(MSG_GARBLED, f"{unmapped} of {visible} characters without Unicode mapping")
    drop_margins(pages)
    return Document(rows=emit(pages), title_hint=title, source_format="pdf")


def _title_hint(pdf: Any) -> str | None:
    """The metadata title, only when it is Chinese and names a year.

    Producers often leave a template's or file's name there (淮安 2024: "政府信息公开工作年度报告",
    without agency or year); the printed title in the text is then the better source.
    """
    try:
        title = normalize_space(pdf.get_metadata_value("Title") or "")
    except bad_file_errors():
        return None
    return title if any(is_cjk(ch) for ch in title) and re.search(r"(19|20)\d{2}", title) else None
