"""HTML tables for the HTML reader: which tables hold data, each cell's text and its grid position.

Why it is separate: :mod:`nianbao.parsing.html` decides what on a page is read and in what order;
this module turns one ``<table>`` into rows of :class:`~nianbao.parsing.document.Cell` exactly as
printed (rowspan/colspan positions are what tell 自然人 from 总计), which is where the HTML table
model and the span limits live. The tag classification (:func:`tag_kind`) is here because a
cell's text is split at the same ``<br>`` and block edges as the page's running text, and the
reader's walk uses it too.

Rules:

* Data tables are tables that contain no other table, are at least two grid columns wide, and
  have no cell longer than :data:`MAX_CELL_CHARS` characters. Any other table is layout
  (:func:`data_table_grid` answers ``None``) and the reader walks it as running text.
* Grid columns follow the HTML table model: a cell's ``col`` skips the positions that row spans
  from rows above occupy.
* Cell text: every text node inside the cell, joined without separators (so ``<span>3</span>
  <span>6</span>`` written without whitespace reads ``36``); ``<br>`` and block elements inside a
  cell are joined by :func:`~nianbao.parsing.encoding.join_pieces` (nothing between CJK, else one
  space); ``&nbsp;`` is a space; the result is stripped, so a ``&nbsp;`` cell is ``""``.

Hostile tables: spans are capped at :data:`~nianbao.parsing.limits.MAX_SPAN` and a table's spanned
area at :data:`~nianbao.parsing.limits.MAX_TABLE_AREA`.
"""

from __future__ import annotations

import re

from lxml import etree

from nianbao.parsing.document import Cell
from nianbao.parsing.encoding import join_pieces, normalize_space
from nianbao.parsing.limits import MAX_SPAN, MAX_TABLE_AREA, too_big

MAX_CELL_CHARS = 300
"""A table with a longer cell is page layout, not a report table."""

# fmt: off
_BLOCK_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th",
    "thead", "tbody", "tfoot", "caption", "section", "article", "main", "aside", "blockquote", "pre",
    "address", "center", "figure", "figcaption", "hr", "form", "fieldset", "legend", "details", "summary",
    "body", "html",
})
# fmt: on
_LEADING_DIGITS = re.compile(r"\s*(\d+)")

BR, TABLE, BLOCK = 1, 2, 4
_KINDS: dict[object, int] = {}
"""Raw tag → what the walk does with it (a cache: the same few dozen names recur in every page)."""


def tag_kind(tag: object) -> int:
    """``BR``/``TABLE``/``BLOCK`` flags of a tag name (lower-cased; ``<o:p>`` is inline)."""
    kind = _KINDS.get(tag)
    if kind is None:
        low = tag.lower() if isinstance(tag, str) else ""
        kind = (BR if low == "br" else 0) | (TABLE | BLOCK if low == "table" else 0)
        kind |= BLOCK if low in _BLOCK_TAGS else 0
        if len(_KINDS) < 4096:  # junk pages may invent any number of names
            _KINDS[tag] = kind
    return kind


def _split_lines(node: etree._Element, buf: list[str], lines: list[str]) -> None:
    """Append ``node``'s text to ``buf``, moving ``buf`` to ``lines`` at ``<br>`` and block edges.

    An empty piece is never moved: :func:`join_pieces` would skip it anyway.
    """
    kind = tag_kind(node.tag)
    if kind & BR:
        if buf:
            lines.append("".join(buf))
            buf.clear()
        return
    if kind and buf:
        lines.append("".join(buf))
        buf.clear()
    if node.text:
        buf.append(node.text)
    for child in node:
        if len(child) or tag_kind(child.tag):
            _split_lines(child, buf, lines)
        elif child.text:  # an inline leaf (a Word ``<span>`` per digit): no call needed
            buf.append(child.text)
        if child.tail:
            buf.append(child.tail)
    if kind and buf:
        lines.append("".join(buf))
        buf.clear()


def cell_text(el: etree._Element) -> str:
    """A cell's text: pieces split by ``<br>``/blocks, joined by the CJK rule, stripped."""
    if not len(el):  # the common plain cell: one piece
        return normalize_space(el.text) if el.text else ""
    buf: list[str] = []
    lines: list[str] = []
    if el.text:
        buf.append(el.text)
    for child in el:
        _split_lines(child, buf, lines)
        if child.tail:
            buf.append(child.tail)
    if buf:
        lines.append("".join(buf))
    return normalize_space(lines[0]) if len(lines) == 1 else join_pieces(lines)


def _span(value: str | None, default: int = 1) -> int:
    """A rowspan/colspan attribute as an int (leading digits; junk → 1; ``0`` kept for rowspan)."""
    if not value:
        return default
    m = _LEADING_DIGITS.match(value)
    if not m:
        return default
    return min(int(m.group(1)), MAX_SPAN)


def data_table_grid(table: etree._Element) -> list[list[Cell]] | None:
    """The table's grid of origin cells, or ``None`` when it is a layout table (see module docstring).

    Grid positions follow the HTML table model: ``free_from[c]`` is the first row that no cell
    from the rows above covers in column ``c``, so a cell starts at the first column whose row is
    free (the same positions as a set of every covered (row, column) pair, without building it).
    """
    if next(table.iterdescendants("table"), None) is not None:
        return None
    trs = list(table.iter("tr"))
    n_rows = len(trs)
    grid: list[list[Cell]] = []
    free_from: dict[int, int] = {}
    width = 0
    area = 0  # grid positions the spanning cells cover: what marking them and the rows cost
    for r, tr in enumerate(trs):
        cells: list[Cell] = []
        c = 0
        for td in tr:
            tag = td.tag
            if tag != "td" and tag != "th":
                continue
            while free_from.get(c, 0) > r:
                c += 1
            colspan = max(1, _span(td.get("colspan")))
            rowspan = _span(td.get("rowspan"))
            rowspan = n_rows - r if rowspan == 0 else min(rowspan, n_rows - r)
            text = cell_text(td)
            if len(text) > MAX_CELL_CHARS:
                return None
            cells.append(Cell(text, c, colspan, rowspan))
            if rowspan > 1:  # a one-row cell leaves no mark: the rows below never look at it
                area += colspan * rowspan
                if area > MAX_TABLE_AREA:
                    raise too_big(f"table cells span more than {MAX_TABLE_AREA} grid positions")
                end = r + rowspan
                for col in range(c, c + colspan):
                    if free_from.get(col, 0) < end:
                        free_from[col] = end
            c += colspan
        width = max(width, c)
        grid.append(cells)
    if width < 2:
        return None
    return grid
