"""Tables without rules: pdfplumber's "text" strategy, used only when no page has a ruled table.

Some reports print their tables as aligned text with no ruling lines at all. Only runs of lines that
look tabular (several words, numbers among them) are given to the finder, so prose never becomes a
table.
"""

from __future__ import annotations

import re
from typing import Any

from nianbao.parsing.limits import Budget
from nianbao.parsing.pdf.lines import line_groups
from nianbao.parsing.pdf.model import Char, Table
from nianbao.parsing.pdf.tables import build_table, cell_boxes

_NUMBER = re.compile(r"^[+\-]?\d[\d,，.]*%?$")


def text_strategy_tables(chars: list[Char], page: int, budget: Budget | None = None) -> list[Table]:
    """pdfplumber's "text" strategy on runs of tabular lines (used only when no page has ruled tables).

    A tabular line has three or more words, two of them numbers; a run of three or more such lines,
    with the line just above as its header when that line has three or more words, is given to
    ``words_to_edges_h``/``words_to_edges_v``. Prose never reaches the finder.
    """
    groups = line_groups(chars)
    words = [_line_words(g) for g in groups]
    tabular = [len(ws) >= 3 and sum(1 for w in ws if _NUMBER.match(str(w["text"]))) >= 2 for ws in words]
    tables: list[Table] = []
    i = 0
    while i < len(groups):
        j = i
        while j < len(groups) and tabular[j]:
            j += 1
        if j - i >= 3:
            start = i - 1 if i > 0 and len(words[i - 1]) >= 3 else i
            run_chars = [c for g in groups[start:j] for c in g]
            table = _text_table([w for ws in words[start:j] for w in ws], run_chars, page, j - start, budget)
            if table is not None:
                tables.append(table)
        i = max(j, i + 1)
    return tables


def _text_table(
    words: list[dict[str, Any]], chars: list[Char], page: int, lines: int, budget: Budget | None
) -> Table | None:
    from pdfplumber import table as pt

    edges = pt.words_to_edges_h(words, word_threshold=1) + pt.words_to_edges_v(words, word_threshold=max(3, lines // 2))
    for e in edges:
        e.setdefault("doctop", e["top"])
        e.setdefault("height", e["bottom"] - e["top"])
        e.setdefault("width", e["x1"] - e["x0"])
        e["object_type"] = "line"
    built = [build_table(t, chars, page) for t in cell_boxes(edges, budget)]
    best = max((t for t in built if t is not None), key=lambda t: len(t.cells), default=None)
    return _drop_empty_rows(best) if best is not None else None


def _drop_empty_rows(table: Table) -> Table:
    """Remove rows in which no cell starts with text (the gaps between text lines)."""
    keep = sorted({c.row for c in table.cells if c.text})
    index = {r: k for k, r in enumerate(keep)}
    cells = []
    for c in table.cells:
        if c.row in index:
            c.rowspan = max(1, sum(1 for r in keep if c.row <= r < c.row + c.rowspan))
            c.row = index[c.row]
            cells.append(c)
    return Table(cells, len(keep), [table.row_pages[0]] * len(keep), table.x0, table.x1, table.top, table.bottom)


def _line_words(line_chars: list[Char]) -> list[dict[str, Any]]:
    """Words of one line: runs of characters without a space or a gap wider than half an em."""
    words: list[dict[str, Any]] = []
    current: list[Char] = []
    for c in line_chars:
        gap = c.x0 - current[-1].x1 if current else 0.0
        if c.ch.isspace() or (current and gap > max(3.0, 0.5 * (c.bottom - c.top))):
            if current:
                words.append(_word(current))
            current = [] if c.ch.isspace() else [c]
        else:
            current.append(c)
    if current:
        words.append(_word(current))
    return words


def _word(chars: list[Char]) -> dict[str, Any]:
    return {"text": "".join(c.ch for c in chars), "x0": min(c.x0 for c in chars), "x1": max(c.x1 for c in chars),
            "top": min(c.top for c in chars), "bottom": max(c.bottom for c in chars)}  # fmt: skip
