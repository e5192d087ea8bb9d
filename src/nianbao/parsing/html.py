"""HTML reports (CMS pages, Word "save as web page", hand-written fragments) → :class:`Document`.

Why it looks like this: government CMS pages wrap the report in navigation, headers, footers,
scripts and often in layout tables; Word-exported HTML splits one number over several ``<span>``s
and writes blank cells as ``&nbsp;``. The reader must keep the report's own tables exactly as
printed (rowspan/colspan positions are what tell 自然人 from 总计) and everything else as plain
lines, without any knowledge of the labels.

Rules:

* ``script``/``style``/``nav``/``header``/``footer`` (and hidden elements) are dropped; everything
  else is kept in document order. If one element clearly holds the report — at least half of the
  page's text and at least 80 % of its table cells — only that element is read (the deepest such
  element); otherwise the whole ``<body>``.
* Data tables are tables that contain no other table, are at least two grid columns wide, and
  have no cell longer than :data:`MAX_CELL_CHARS` characters. Any other table is layout: its
  cells are read as running text and the tables nested in it are read on their own.
* Grid columns follow the HTML table model: a cell's ``col`` skips the positions that row spans
  from rows above occupy.
* Cell text: every text node inside the cell, joined without separators (so ``<span>3</span>
  <span>6</span>`` written without whitespace reads ``36``); ``<br>`` and block elements inside a
  cell are joined by :func:`~nianbao.parsing.encoding.join_pieces` (nothing between CJK, else one
  space); ``&nbsp;`` is a space; the result is stripped, so a ``&nbsp;`` cell is ``""``.
* Running text: one :class:`Row` per block element (``p``, ``div``, ``li``, headings, …) or per
  ``<br>``-separated line.
* Title hint: an ``<h1>`` or an element whose class/id contains ``title`` (one mentioning 报告
  preferred), else ``<title>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Cell, Document, Row, grid_rows, text_row
from nianbao.parsing.encoding import decode_text, join_pieces, normalize_space

if TYPE_CHECKING:
    from lxml.html import HtmlElement

MAX_CELL_CHARS = 300
"""A table with a longer cell is page layout, not a report table."""

# fmt: off
_DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "header", "footer", "iframe", "object", "embed",
    "select", "option", "button", "svg", "input", "textarea",
})
_BLOCK_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th",
    "thead", "tbody", "tfoot", "caption", "section", "article", "main", "aside", "blockquote", "pre",
    "address", "center", "figure", "figcaption", "hr", "form", "fieldset", "legend", "details", "summary",
    "body", "html",
})
# fmt: on
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_NON_SPACE = re.compile(r"\S")

MSG_EMPTY = "网页文件没有内容，请上传完整的年度报告网页、DOCX 或 PDF 文件"
MSG_BROKEN = "网页文件无法解析，请另存为 DOCX 或 PDF 后重新上传"


def read(data: bytes) -> Document:
    """Read an HTML file into the intermediate form."""
    root = _parse(data)
    try:
        _drop_invisible(root)
        title = _title_hint(root)
        body = root.find("body")
        article = _article_root(body if body is not None else root)
        rows = _Emitter().run(article)
    except RecursionError:
        raise ParseFailed(MSG_BROKEN, "nesting too deep") from None
    return Document(rows=rows, title_hint=title, source_format="html")


def _parse(data: bytes) -> HtmlElement:
    """Decode and parse; an empty or unparsable page is a :class:`ParseFailed`."""
    import lxml.etree
    import lxml.html

    text = _XML_DECL.sub("", decode_text(data), count=1)
    if not text.strip():
        raise ParseFailed(MSG_EMPTY, "empty HTML")
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError) as exc:
        raise ParseFailed(MSG_EMPTY if "empty" in str(exc).lower() else MSG_BROKEN, str(exc)) from None


def _tag(el: HtmlElement) -> str:
    """Lower-case tag name (Office prefixes kept: ``<o:p>`` is inline), ``""`` for comments."""
    tag = el.tag
    return tag.lower() if isinstance(tag, str) else ""


def _drop_invisible(root: HtmlElement) -> None:
    """Remove scripts, styles, navigation, page header/footer and hidden elements (keeping tails)."""
    doomed = []
    for el in root.iter():
        tag = _tag(el)
        if tag == "title":
            continue
        if (
            tag in _DROP_TAGS or el.get("hidden") is not None or _HIDDEN_STYLE.search(el.get("style") or "")
        ) and el.getparent() is not None:
            doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()


def _title_hint(root: HtmlElement) -> str | None:
    """``<h1>`` or class/id ``*title*`` text (one mentioning 报告 preferred), else ``<title>``."""
    candidates: list[str] = []
    for el in root.iter():
        tag = _tag(el)
        if not tag or tag == "title":
            continue
        marker = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        if tag == "h1" or "title" in marker:
            text = normalize_space(el.text_content())
            if 4 <= len(text) <= 120:
                candidates.append(text)
    for text in candidates:
        if "报告" in text:
            return text
    if candidates:
        return candidates[0]
    title = root.find(".//title")
    if title is not None:
        text = normalize_space(title.text_content())
        return text or None
    return None


# --- choosing the element that holds the report ---------------------------------------------------


@dataclass(slots=True)
class _Size:
    chars: int = 0
    cells: int = 0


def _measure(el: HtmlElement, sizes: dict[HtmlElement, _Size]) -> _Size:
    """Non-space characters and table cells under ``el`` (tails belong to the parent)."""
    size = _Size(chars=_count(el.text))
    if _tag(el) in ("td", "th"):
        size.cells += 1
    for child in el:
        sub = _measure(child, sizes)
        size.chars += sub.chars + _count(child.tail)
        size.cells += sub.cells
    sizes[el] = size
    return size


def _count(text: str | None) -> int:
    return len(_NON_SPACE.findall(text)) if text else 0


def _article_root(body: HtmlElement) -> HtmlElement:
    """The deepest element with ≥ 50 % of the text and ≥ 80 % of the table cells, else ``body``."""
    sizes: dict[HtmlElement, _Size] = {}
    total = _measure(body, sizes)
    if total.cells == 0 or total.chars == 0:
        return body
    node = body
    while True:
        nxt = None
        for child in node:
            s = sizes.get(child)
            if s and s.chars * 2 >= total.chars and s.cells * 5 >= total.cells * 4:
                nxt = child
                break
        if nxt is None:
            return node
        node = nxt


# --- walking: running text and tables in document order -------------------------------------------


@dataclass
class _Emitter:
    """Walks an element tree and emits text rows and table rows in document order."""

    rows: list[Row] = field(default_factory=list)
    buf: list[str] = field(default_factory=list)
    tables: int = 0

    def run(self, root: HtmlElement) -> list[Row]:
        self.walk(root)
        self.flush()
        return self.rows

    def flush(self) -> None:
        text = normalize_space("".join(self.buf))
        self.buf.clear()
        if text:
            self.rows.append(text_row(text))

    def walk(self, el: HtmlElement) -> None:
        tag = _tag(el)
        if tag == "br":
            self.flush()
            return
        if tag == "table":
            self.flush()
            grid = data_table_grid(el)
            if grid is not None:
                self.emit_table(el, grid)
                return
        block = tag in _BLOCK_TAGS or tag == "table"
        if block:
            self.flush()
        if el.text:
            self.buf.append(el.text)
        for child in el:
            self.walk(child)
            if child.tail:
                self.buf.append(child.tail)
        if block:
            self.flush()

    def emit_table(self, table: HtmlElement, grid: list[list[Cell]]) -> None:
        for caption in table.iterchildren("caption"):
            text = cell_text(caption)
            if text:
                self.rows.append(text_row(text))
        self.rows.extend(grid_rows(grid, self.tables))
        self.tables += 1


def _lines(el: HtmlElement) -> Iterator[str]:
    """The lines of an element's content: split at ``<br>`` and block elements, not yet normalised."""
    buf: list[str] = []

    def walk(node: HtmlElement) -> Iterator[str]:
        tag = _tag(node)
        if tag == "br":
            yield "".join(buf)
            buf.clear()
            return
        block = tag in _BLOCK_TAGS or tag == "table"
        if block and buf:
            yield "".join(buf)
            buf.clear()
        if node.text:
            buf.append(node.text)
        for child in node:
            yield from walk(child)
            if child.tail:
                buf.append(child.tail)
        if block and buf:
            yield "".join(buf)
            buf.clear()

    if el.text:
        buf.append(el.text)
    for child in el:
        yield from walk(child)
        if child.tail:
            buf.append(child.tail)
    if buf:
        yield "".join(buf)


def cell_text(el: HtmlElement) -> str:
    """A cell's text: pieces split by ``<br>``/blocks, joined by the CJK rule, stripped."""
    return join_pieces(list(_lines(el)))


def _span(value: str | None, default: int = 1) -> int:
    """A rowspan/colspan attribute as an int (leading digits; junk → 1; ``0`` kept for rowspan)."""
    if not value:
        return default
    m = re.match(r"\s*(\d+)", value)
    if not m:
        return default
    return min(int(m.group(1)), 1000)


def data_table_grid(table: HtmlElement) -> list[list[Cell]] | None:
    """The table's grid of origin cells, or ``None`` when it is a layout table (see module docstring)."""
    if any(_tag(d) == "table" for d in table.iterdescendants()):
        return None
    trs = [tr for tr in table.iter() if _tag(tr) == "tr"]
    grid: list[list[Cell]] = []
    occupied: set[tuple[int, int]] = set()
    width = 0
    for r, tr in enumerate(trs):
        cells: list[Cell] = []
        c = 0
        for td in tr:
            if _tag(td) not in ("td", "th"):
                continue
            while (r, c) in occupied:
                c += 1
            colspan = max(1, _span(td.get("colspan")))
            rowspan = _span(td.get("rowspan"))
            rowspan = len(trs) - r if rowspan == 0 else min(rowspan, len(trs) - r)
            text = cell_text(td)
            if len(text) > MAX_CELL_CHARS:
                return None
            cells.append(Cell(text, col=c, colspan=colspan, rowspan=rowspan))
            for dr in range(rowspan):
                for dc in range(colspan):
                    occupied.add((r + dr, c + dc))
            c += colspan
        width = max(width, c)
        grid.append(cells)
    if width < 2:
        return None
    return grid
