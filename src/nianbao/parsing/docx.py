"""DOCX reports (Word, WPS) → :class:`Document`.

Why it walks the XML itself: python-docx exposes paragraphs and tables as two separate lists and
its table API repeats a merged cell in every grid position it covers. The label reader needs the
body in order (heading, then its table) and each merged cell exactly once with its real span, so
this module opens the package with :mod:`nianbao.parsing.docx_package` (plain lxml trees, the same
files accepted as by python-docx, several times faster) and walks ``w:body`` directly:

* ``w:p`` → one text row per line (``w:br``/``w:cr`` split lines); ``w:tbl`` → table rows;
  ``w:sdt``/``w:customXml`` wrappers are transparent; deleted revisions, hidden runs
  (``w:vanish``), field codes and the ``mc:Fallback`` copy of text boxes are skipped.
* Automatic numbering is rendered (``一、`` ``（三）`` ``1.`` from ``numbering.xml``, also through
  paragraph styles), because section headings and table labels are often numbered by Word and
  the number is not in the text.
* Merged cells: ``w:gridSpan`` → ``colspan``; ``w:vMerge`` restart/continue → one cell with
  ``rowspan`` (a continued cell is not a new cell); ``w:gridBefore`` shifts a row's first column;
  legacy ``w:hMerge`` widens the cell to its left.
* A table that contains another table, is a single column wide, or has a cell longer than
  :data:`MAX_CELL_CHARS` is page layout: its paragraphs are running text and its nested tables are
  read on their own (the same rule as the HTML reader).
* Cell text: the cell's paragraphs and lines joined by :func:`~nianbao.parsing.encoding.join_pieces`.
* Title hint: the leading centred paragraphs (up to three), else the first non-empty paragraph,
  else the core-properties title.

The walk recurses (runs inside hyperlinks and fields, ``w:sdt`` wrappers, tables in layout cells);
libxml2 refuses XML nested deeper than 256 elements (``huge_tree`` stays off), which bounds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Cell, Document, Row, grid_rows, text_row
from nianbao.parsing.docx_numbering import (
    GRIDSPAN,
    HMERGE,
    PPR,
    RPR,
    TCPR,
    TRPR,
    VAL,
    VANISH,
    VMERGE,
    Numbering,
    R,
    T,
    W,
    find_child,
    format_number,
    to_int,
    w_val,
)
from nianbao.parsing.docx_package import BAD_FILE_ERRORS, WordPackage, open_package
from nianbao.parsing.encoding import join_pieces, normalize_space
from nianbao.parsing.limits import MAX_SPAN, check_rows

__all__ = ["MAX_CELL_CHARS", "MSG_CORRUPT", "format_number", "paragraph_lines", "read"]

MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
MAX_CELL_CHARS = 300
MSG_CORRUPT = (
    "DOCX 文件已损坏或不是有效的 Word 文档，无法打开；请在 Word/WPS 中重新另存为 .docx 或导出 PDF 后上传"
)

_SKIP = frozenset(
    {
        f"{W}del",
        f"{W}moveFrom",
        f"{W}instrText",
        f"{W}delText",
        f"{W}delInstrText",
        f"{MC}Fallback",
        f"{W}pPr",
        f"{W}rPr",
        f"{W}footnoteReference",
        f"{W}endnoteReference",
        f"{W}commentReference",
    }
)


def read(data: bytes) -> Document:
    """Read a DOCX file into the intermediate form."""
    package = _open(data)
    numbering = Numbering.from_xml(package.numbering, lambda: _styles(package))
    body = package.document.find(f"{W}body")
    walker = _Walker(numbering)
    walker.blocks(body)
    title = _title_hint(walker.leading, package.title)
    return Document(rows=walker.rows, title_hint=title, source_format="docx")


def _open(data: bytes) -> WordPackage:
    """Open the package; a damaged or foreign file is a :class:`ParseFailed`."""
    try:
        package = open_package(data)
    except BAD_FILE_ERRORS as exc:  # BadZipFile, missing parts, XML errors, not a Word file…
        raise ParseFailed(MSG_CORRUPT, f"{type(exc).__name__}: {exc}") from None
    if package.document.tag != f"{W}document":
        raise ParseFailed(MSG_CORRUPT, f"main part is <{package.document.tag}>, not <w:document>")
    return package


def _styles(package: WordPackage) -> Any:
    """The styles part, parsed on first use; a malformed one is a :class:`ParseFailed` then."""
    try:
        return package.styles()
    except BAD_FILE_ERRORS as exc:
        raise ParseFailed(MSG_CORRUPT, f"styles part: {type(exc).__name__}: {exc}") from None


# --- text of paragraphs ------------------------------------------------------------------------------


def _runs_text(el: Any, out: list[list[str]]) -> None:
    """Append the visible text under ``el`` to ``out`` (a list of lines, each a list of pieces)."""
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == R:
            rpr = find_child(child, RPR)
            vanish = rpr.find(VANISH) if rpr is not None else None
            if vanish is not None and vanish.get(VAL, "true") not in ("0", "false", "off"):
                continue
        if tag == T:
            out[-1].append(child.text or "")
        elif tag in (f"{W}tab", f"{W}ptab"):
            out[-1].append(" ")
        elif tag in (f"{W}br", f"{W}cr"):
            out.append([])
        elif tag == f"{W}noBreakHyphen":
            out[-1].append("-")
        else:
            _runs_text(child, out)


def paragraph_lines(p: Any, numbering: Numbering) -> list[str]:
    """The lines of a ``w:p`` (split at breaks), numbering label included, whitespace-normalised."""
    out: list[list[str]] = [[numbering.label(p)]]
    _runs_text(p, out)
    lines = [normalize_space("".join(parts)) for parts in out]
    return [line for line in lines if line]


# --- body walk ---------------------------------------------------------------------------------------


def _children(el: Any, tags: tuple[str, ...]) -> Iterator[Any]:
    """Children of ``el`` with one of ``tags``, looking through ``w:sdt``/``w:customXml`` wrappers."""
    for child in el:
        if child.tag in tags:
            yield child
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            yield from _children(child, tags)


@dataclass
class _Walker:
    numbering: Numbering
    rows: list[Row] = field(default_factory=list)
    tables: int = 0
    leading: list[tuple[str, bool]] = field(default_factory=list)
    """Text and centring of the first paragraphs (for the title hint)."""

    def blocks(self, container: Any) -> None:
        for el in _children(container, (f"{W}p", f"{W}tbl")):
            if el.tag == f"{W}p":
                self.paragraph(el)
            else:
                self.table(el)

    def paragraph(self, p: Any) -> None:
        if not len(p):  # an empty paragraph (Word's blank lines): no text, no numbering, nothing to do
            return
        lines = paragraph_lines(p, self.numbering)
        if len(self.leading) < 5 and lines and self.tables == 0:
            self.leading.append(("".join(lines), w_val(p, PPR, f"{W}jc") == "center"))
        self.rows.extend(text_row(line) for line in lines)
        check_rows(len(self.rows))

    def table(self, tbl: Any) -> None:
        grid = self.data_grid(tbl)
        if grid is None:
            for tr in _children(tbl, (f"{W}tr",)):
                for tc in _children(tr, (f"{W}tc",)):
                    self.blocks(tc)
            return
        self.rows.extend(grid_rows(grid, self.tables))
        check_rows(len(self.rows))
        self.tables += 1

    def cell_text(self, tc: Any) -> str:
        pieces: list[str] = []
        for p in _children(tc, (f"{W}p",)):
            pieces.extend(paragraph_lines(p, self.numbering))
        return join_pieces(pieces)

    def data_grid(self, tbl: Any) -> list[list[Cell]] | None:
        """Origin cells per row, or ``None`` for a layout table."""
        if tbl.find(f".//{W}tc//{W}tbl") is not None:
            return None
        grid: list[list[Cell]] = []
        above: dict[int, Cell] = {}  # grid column → vertically merged cell open in the row above
        width = 0
        for tr in _children(tbl, (f"{W}tr",)):
            cells, above, col = self.row_cells(tr, above)
            if any(len(c.text) > MAX_CELL_CHARS for c in cells):
                return None
            width = max(width, col)
            grid.append(cells)
        return grid if width >= 2 else None

    def row_cells(self, tr: Any, above: dict[int, Cell]) -> tuple[list[Cell], dict[int, Cell], int]:
        col = min(max(0, to_int(w_val(tr, TRPR, f"{W}gridBefore"), 0)), MAX_SPAN)
        cells: list[Cell] = []
        open_now: dict[int, Cell] = {}
        for tc in _children(tr, (f"{W}tc",)):
            span_el = vmerge = hmerge_el = None
            tcpr = find_child(tc, TCPR)
            if tcpr is not None:
                for prop in tcpr:  # one pass for the first of each (what three find() calls gave)
                    if prop.tag == GRIDSPAN and span_el is None:
                        span_el = prop
                    elif prop.tag == VMERGE and vmerge is None:
                        vmerge = prop
                    elif prop.tag == HMERGE and hmerge_el is None:
                        hmerge_el = prop
            span = min(max(1, to_int(span_el.get(VAL) if span_el is not None else None, 1)), MAX_SPAN)
            hmerge = hmerge_el.get(VAL) if hmerge_el is not None else None
            if hmerge == "continue" and cells:
                cells[-1].colspan += span
                col += span
                continue
            origin = above.get(col)
            if vmerge is not None and vmerge.get(VAL, "continue") == "continue" and origin is not None:
                origin.rowspan += 1
                open_now[col] = origin
            else:
                cell = Cell(self.cell_text(tc), col, span)
                cells.append(cell)
                if vmerge is not None:
                    open_now[col] = cell
            col += span
        return cells, open_now, col


def _title_hint(leading: list[tuple[str, bool]], core_title: str) -> str | None:
    """Leading centred paragraphs (≤ 3), else the first paragraph, else the core title."""
    centred: list[str] = []
    for text, centre in leading:
        if not centre or len(text) > 80 or len(centred) == 3:
            break
        centred.append(text)
    if centred:
        return "".join(centred)
    if leading and len(leading[0][0]) <= 100:
        return leading[0][0]
    return normalize_space(core_title) or None
