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
* Data tables (which tables they are, their cell text and grid positions) are read by
  :mod:`nianbao.parsing.html_tables`, each in its place in the page; a caption becomes a text row
  before its table. Any other table is layout: its cells are read as running text and the tables
  nested in it are read on their own.
* Running text: one :class:`Row` per block element (``p``, ``div``, ``li``, headings, …) or per
  ``<br>``-separated line.
* Title hint: an ``<h1>`` or an element whose class/id contains ``title`` (one mentioning 报告
  preferred), else ``<title>``.

Hostile pages: a page with more than :data:`~nianbao.parsing.limits.MAX_HTML_TAGS` tags is refused
before it is parsed; libxml2 keeps its depth limit (256: deeper elements are flattened), which
bounds the recursive walk; entities declared in a DOCTYPE are never expanded; spans and spanned
areas are capped in :mod:`nianbao.parsing.html_tables`.
"""

from __future__ import annotations

import re

from lxml import etree

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Cell, Document, Row, grid_rows, text_row
from nianbao.parsing.encoding import decode_text, normalize_space
from nianbao.parsing.html_tables import BLOCK, BR, TABLE, cell_text, data_table_grid, tag_kind
from nianbao.parsing.limits import MAX_HTML_TAGS, check_rows, html_parser, too_big

# fmt: off
_DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "header", "footer", "iframe", "object", "embed",
    "select", "option", "button", "svg", "input", "textarea",
})
# fmt: on
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACE_CONTROLS = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f")

# Tag names: libxml2 lower-cases the ASCII letters of every tag name, so the C-level filters below
# (``iter("td", "th")``, the XPath name tests) see exactly the names ``tag.lower()`` would give. The
# one exception is a non-ASCII letter that Python lower-cases to ASCII (U+212A KELVIN SIGN → ``k``);
# no name those filters look for contains a ``k``, and :func:`~nianbao.parsing.html_tables.tag_kind`
# lower-cases like before.
#
# Attribute look-ups go through XPath attribute steps (``//@style``) rather than ``el.get`` on
# every element or an XPath predicate (``//*[@style]``): making a Python object per element, or
# evaluating a predicate per node, costs several times more than the whole parse.
_HIDDEN_ATTRS = etree.XPath("descendant-or-self::*/@hidden")
_STYLE_ATTRS = etree.XPath("descendant-or-self::*/@style")
_CLASS_ATTRS = etree.XPath("descendant-or-self::*/@class")
_ID_ATTRS = etree.XPath("descendant-or-self::*/@id")
_STRING = etree.XPath("string()")
"""All text under an element, its own tail excluded (what ``HtmlElement.text_content`` returns)."""

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


def _parse(data: bytes) -> etree._Element:
    """Decode and parse; an empty or unparsable page is a :class:`ParseFailed`.

    Plain ``lxml.etree`` elements, not ``lxml.html``'s: the HTML element classes are looked up in
    Python for every element the walk touches, which cost a third of the reading time.
    """
    text = _xml_compatible(_XML_DECL.sub("", decode_text(data), count=1))
    if not text.strip():
        raise ParseFailed(MSG_EMPTY, "empty HTML")
    tags = text.count("<")  # counted before parsing: libxml2 needs ~120 bytes per element
    if tags > MAX_HTML_TAGS:
        raise too_big(f"{tags} tags")
    parser = html_parser(remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(text, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseFailed(MSG_EMPTY if "empty" in str(exc).lower() else MSG_BROKEN, str(exc)) from None
    if root is None:
        raise ParseFailed(MSG_EMPTY, "Document is empty")
    return root


def _xml_compatible(text: str) -> str:
    """``text`` without the characters lxml refuses to set as an element's text or tail.

    libxml2's HTML parser keeps some control characters in the tree, and moving that text (a
    dropped element's tail, :func:`_drop_invisible`) then raises ``ValueError``. The ones
    ``str.isspace`` counts as spaces become a space; the others carry nothing and are dropped, as
    zero-width characters are by the whitespace rule.
    """
    if _XML_INCOMPATIBLE.search(text) is None:
        return text
    return _XML_INCOMPATIBLE.sub(lambda m: " " if m.group() in _SPACE_CONTROLS else "", text)


def _drop_invisible(root: etree._Element) -> None:
    """Remove scripts, styles, navigation, page header/footer and hidden elements (keeping tails).

    The order of removal does not matter: a removed element's tail goes to its previous sibling
    or its parent, and when that one is removed too the text moves on with it, in the same order.
    """
    doomed: dict[etree._Element, None] = dict.fromkeys(root.iter(*_DROP_TAGS))
    doomed.update((attr.getparent(), None) for attr in _HIDDEN_ATTRS(root))
    hidden_styles: dict[str, bool] = {}  # Word repeats the same few style strings on every span
    for style in _STYLE_ATTRS(root):
        hidden = hidden_styles.get(style)
        if hidden is None:
            hidden = hidden_styles[style] = _HIDDEN_STYLE.search(style) is not None
        if hidden:
            doomed[style.getparent()] = None
    for el in doomed:
        parent = el.getparent()
        if parent is None or el.tag == "title":
            continue
        tail = el.tail
        if tail:
            previous = el.getprevious()
            if previous is None:
                parent.text = (parent.text or "") + tail
            else:
                previous.tail = (previous.tail or "") + tail
        parent.remove(el)


def _title_hint(root: etree._Element) -> str | None:
    """``<h1>`` or class/id ``*title*`` text (one mentioning 报告 preferred), else ``<title>``."""
    found: dict[etree._Element, None] = dict.fromkeys(root.iter("h1"))
    for attrs in (_CLASS_ATTRS(root), _ID_ATTRS(root)):
        found.update((a.getparent(), None) for a in attrs if "title" in a.lower())
    candidates: list[str] = []
    for el in sorted(found, key=_document_position) if len(found) > 1 else found:
        if el.tag == "title":
            continue
        text = normalize_space(_STRING(el))
        if 4 <= len(text) <= 120:
            candidates.append(text)
    for text in candidates:
        if "报告" in text:
            return text
    if candidates:
        return candidates[0]
    title = root.find(".//title")
    if title is not None:
        text = normalize_space(_STRING(title))
        return text or None
    return None


def _document_position(el: etree._Element) -> list[int]:
    """Child indexes from the root down to ``el``: sorting by them is sorting in document order."""
    path: list[int] = []
    parent = el.getparent()
    while parent is not None:
        path.append(parent.index(el))
        el, parent = parent, parent.getparent()
    path.reverse()
    return path


# --- choosing the element that holds the report ---------------------------------------------------


def _chars(el: etree._Element) -> int:
    """Non-space characters under ``el`` (its own tail belongs to the parent).

    ``str.split()`` and regex ``\\s`` agree on what a space is (both ``str.isspace``).
    """
    return len("".join(_STRING(el).split()))


def _article_root(body: etree._Element) -> etree._Element:
    """The deepest element with ≥ 50 % of the text and ≥ 80 % of the table cells, else ``body``.

    The cells under one element are a contiguous run of all cells in document order, so an element
    holding ≥ 80 % of them holds the middle cell: only the middle cell's ancestors can qualify, and
    they are measured (in C) from the top down until one falls short.
    """
    cells = list(body.iter("td", "th"))
    if not cells:
        return body
    total_chars = _chars(body)
    if total_chars == 0:
        return body
    middle = cells[len(cells) // 2]
    chain = [middle, *middle.iterancestors()]
    node = body
    for child in reversed(chain[: chain.index(body)]):
        child_cells = sum(1 for _ in child.iter("td", "th"))
        if child_cells * 5 < len(cells) * 4 or _chars(child) * 2 < total_chars:
            break
        node = child
    return node


# --- walking: running text and tables in document order -------------------------------------------


class _Emitter:
    """Walks an element tree and emits text rows and table rows in document order."""

    __slots__ = ("buf", "rows", "tables")

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.buf: list[str] = []
        self.tables = 0

    def run(self, root: etree._Element) -> list[Row]:
        self.walk(root)
        self.flush()
        return self.rows

    def flush(self) -> None:
        if not self.buf:
            return
        text = normalize_space("".join(self.buf))
        self.buf.clear()
        if text:
            self.rows.append(text_row(text))
            check_rows(len(self.rows))

    def walk(self, el: etree._Element) -> None:
        kind = tag_kind(el.tag)
        if kind & BR:
            self.flush()
            return
        if kind & TABLE:
            self.flush()
            grid = data_table_grid(el)
            if grid is not None:
                self.emit_table(el, grid)
                return
        if kind & BLOCK:
            self.flush()
        buf = self.buf
        if el.text:
            buf.append(el.text)
        for child in el:
            self.walk(child)
            if child.tail:
                buf.append(child.tail)
        if kind & BLOCK:
            self.flush()

    def emit_table(self, table: etree._Element, grid: list[list[Cell]]) -> None:
        for caption in table.iterchildren("caption"):
            text = cell_text(caption)
            if text:
                self.rows.append(text_row(text))
        self.rows.extend(grid_rows(grid, self.tables))
        check_rows(len(self.rows))
        self.tables += 1
