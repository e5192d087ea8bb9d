"""Plain-text renderings → :class:`Document`.

Two kinds are common: markdown-ish text with tab-separated table rows (the seed document), and
the pipe-separated tables that web-page extraction produces (``| 规章 | 0 | 0 | 0 |``). Text
extracted from PDFs puts a row's numbers after its label separated by spaces; such a line is split
into its label and its trailing numbers, so every rendering reaches the readers as cells.
"""

from __future__ import annotations

import re

from nianbao.parsing.document import Cell, Document, Row
from nianbao.parsing.encoding import decode_text
from nianbao.parsing.limits import MAX_ROWS, MAX_TEXT_CHARS, too_big

_PAGE_FOOTER = re.compile(r"^\s*[-—–―]\s*\d{1,3}\s*[-—–―]\s*$|^\s*第\s*\d+\s*页(\s*[,，/共]\s*共?\s*\d+\s*页)?\s*$")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_NUM_TOKEN = re.compile(r"^[+\-−]?[\d０-９][\d０-９,，]*(\.[\d０-９]+)?$|^[-—–―/无]$")


def read(data: bytes) -> Document:
    """Read a text file (any of the encodings agencies use)."""
    return read_str(decode_text(data))


def read_str(text: str) -> Document:
    """Read already-decoded text (too many lines or characters are refused: :mod:`~nianbao.parsing.limits`)."""
    lines = text.count("\n") + 1
    if lines > MAX_ROWS or len(text) > MAX_TEXT_CHARS:
        raise too_big(f"{lines} lines, {len(text)} characters")
    rows: list[Row] = []
    table = -1
    in_table = False
    for lineno, line in enumerate(text.split("\n"), start=1):
        if _PAGE_FOOTER.match(line):
            continue
        if _MD_RULE.match(line):
            continue
        cells = _split(line)
        if cells is None:
            in_table = False
            if not line.strip():
                continue
            rows.append(Row(cells=_split_trailing_numbers(line), line=lineno))
            continue
        if not in_table:
            table += 1
            in_table = True
        rows.append(Row(cells=[Cell(t, col=i) for i, t in enumerate(cells)], line=lineno, table=table))
    return Document(rows=rows, source_format="text")


def _split(line: str) -> list[str] | None:
    """Cells of a tab- or pipe-separated table line; None for a line of running text."""
    if "\t" in line:
        return [c.strip() for c in line.rstrip("\r").split("\t")]
    s = line.strip()
    if s.count("|") >= 2 or (s.startswith("|") and s.endswith("|") and len(s) > 1):
        parts = s.split("|")
        if s.startswith("|"):
            parts = parts[1:]
        if s.endswith("|"):
            parts = parts[:-1]
        return [p.strip() for p in parts]
    return None


def _split_trailing_numbers(line: str) -> list[Cell]:
    """``一、本年新收… 3001 53 0 0 61 4 3119`` → the label cell and one cell per number."""
    tokens = line.split()
    n = len(tokens)
    while n > 0 and _NUM_TOKEN.match(tokens[n - 1]):
        n -= 1
    if n == len(tokens) or not any(ch.isdigit() for t in tokens[n:] for ch in t):
        return [Cell(line.strip())]
    label = " ".join(tokens[:n])
    cells = [Cell(label, col=0)] if label else []
    cells.extend(Cell(t, col=i + 1) for i, t in enumerate(tokens[n:]))
    return cells
