"""PDF reports → :class:`Document`: running text in reading order and the ruled tables as grids.

Why it is built this way:

* **Speed.** pdfplumber's own page model (pdfminer) costs about 0.1 s per page, 0.5 s per report
  — far from the goal of five reports a second. PDFium (pypdfium2) gives the characters with their
  boxes and the vector paths ten times faster, so this module reads both from PDFium and hands the
  ruling lines to **pdfplumber's table finder** (``merge_edges`` → ``edges_to_intersections`` →
  ``intersections_to_cells`` → ``cells_to_tables``, the "lines" strategy with its default
  tolerances). Only pages with ruling lines run the finder.
* **Faithful grids.** Each table's column and row boundaries are the distinct x/y positions of
  its cells; a cell's ``col``/``colspan``/``rowspan`` are the boundaries it spans, so a merged
  label (``三、本年度办理结果`` over 22 rows) is one cell with its true span, exactly as in HTML.
* **Cell text.** Characters belong to the cell that contains their centre. Lines inside a cell are
  joined without a space between CJK characters (wrapped labels, headers printed one character per
  line) and with one space otherwise — :func:`~nianbao.parsing.encoding.join_pieces`.
* **Tables across pages.** When a page ends with a table and the next page starts with a table
  whose outer borders line up, the second is the continuation of the first: same table index,
  rows appended, each row's ``page`` set. A header repeated at the top of the continuation is
  dropped. A row-spanning cell cut by the page break is mended: an empty cell at the top of the
  continuation, in the same columns as a cell open at the bottom of the previous page, extends that
  cell's ``rowspan``; a non-empty one is appended to its text when the text visibly runs across
  the break (it ends at the bottom edge and restarts at the top edge: ``（四）无`` + ``法提供``).
* **Ruling lines.** Only paths painted in a colour that shows on white paper count: Word paints
  every cell background as white rectangles cut along the hidden column grid, whose edges would
  split merged cells. Where several vertical rules end at the same height with no rule across
  them (Word draws no bottom border where a table breaks over a page), a closing edge is added.
* **Not tables.** A "table" one column wide is a framed text box: its text is running text.
* **Running text.** Characters outside tables, grouped into lines; one text row per line, in
  top-to-bottom order with the tables. Page numbers in the top/bottom margin (``- 4 -``,
  ``— 4 —``, ``第4页``, ``4/6``) and margin lines repeated on most pages are dropped.
* **PDFium quirks handled.** Some vertical-writing fonts get absurd "loose" character boxes (the
  glyph's own box is used instead); PDFium silently drops text objects whose glyphs it cannot
  measure (a one-character line in a non-embedded CJK font such as ``STSong-Light``, used by
  reportlab and iText) — such pages are read with pdfminer instead (slower, same result).
* **Text-strategy fallback.** Only when no page of the document has a ruled table: runs of lines
  that look tabular go to pdfplumber's "text" strategy (see :func:`_text_strategy_tables`).
* **Refusals.** No text layer (a scan), a password, a broken file, or text without a Unicode
  mapping (copying gives gibberish) → :class:`~nianbao.errors.ParseFailed` saying what to upload.
"""

from __future__ import annotations

import bisect
import ctypes
import io
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Cell, Document, Row, grid_rows, text_row
from nianbao.parsing.encoding import is_cjk, join_pieces, normalize_space

MSG_NO_TEXT = "PDF 没有文字层（可能是扫描件），无法读取表格数据；请上传由 Word/WPS 直接导出的 PDF 或 DOCX 文件"
MSG_ENCRYPTED = "PDF 文件已加密（设置了打开密码），无法读取；请上传未加密的 PDF 副本，或由 Word/WPS 直接导出的 PDF/DOCX 文件"
MSG_CORRUPT = "PDF 文件已损坏或不完整，无法打开；请重新导出 PDF 后上传，或改为上传 DOCX 文件"
MSG_GARBLED = "PDF 中的文字无法正确提取（字体缺少 Unicode 映射，复制出来是乱码）；请上传由 Word/WPS 直接导出的 PDF 或 DOCX 文件"

MIN_TEXT_CHARS = 20
"""Fewer visible characters than this in the whole file: no text layer."""
MARGIN = 0.09
"""Top and bottom share of the page where page numbers and running headers live."""
SNAP = 3.0
"""pdfplumber's default snap/join/intersection tolerance (points)."""
BORDER_TOLERANCE = 4.0
"""How far the outer borders of a table's two parts may be apart to count as one table."""

_PAGE_NUMBER = re.compile(
    r"^[\s\-—–―_·•]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/／,，]?\s*共?\s*\d{1,4}\s*页?)?[\s\-—–―_·•]*$"
    r"|^\s*page\s*\d+(?:\s*of\s*\d+)?\s*$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^[+\-]?\d[\d,，.]*%?$")
_ERR_PASSWORD = 4
_SEG_LINETO, _SEG_BEZIER, _SEG_MOVETO = 0, 1, 2
_OBJ_TEXT, _OBJ_PATH, _OBJ_FORM = 1, 2, 5
_MAX_SEGMENTS = 400
_SANE_BOX = 40.0
"""A loose character box larger than this (points) is checked against the glyph's own box."""


@dataclass(slots=True)
class _Char:
    ch: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(slots=True)
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass(slots=True)
class _TCell:
    """A table cell in page geometry; ``row``/``rowspan`` index the table's row boundaries."""

    x0: float
    x1: float
    row: int
    rowspan: int
    top: float
    bottom: float
    chars: list[_Char] = field(default_factory=list)
    text: str = ""
    text_top: float | None = None
    text_bottom: float | None = None


@dataclass
class _Table:
    cells: list[_TCell]
    nrows: int
    row_pages: list[int]
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass
class _Page:
    number: int
    height: float
    lines: list[_Line]
    tables: list[_Table]


# --- entry point --------------------------------------------------------------------------------------


def read(data: bytes) -> Document:
    """Read a PDF file into the intermediate form."""
    pdf = _open(data)
    try:
        pages, visible, unmapped = _read_pages(pdf, data)
        title = _title_hint(pdf)
    except _bad_file_errors() as exc:  # PDFium refusing a damaged page, pdfminer syntax errors…
        raise ParseFailed(MSG_CORRUPT, f"{type(exc).__name__}: {exc}") from None
    finally:
        pdf.close()
    if visible < MIN_TEXT_CHARS:
        raise ParseFailed(MSG_NO_TEXT, f"{visible} visible characters on {len(pages)} pages")
    if unmapped > visible * 0.5:
        raise ParseFailed(MSG_GARBLED, f"{unmapped} of {visible} characters without Unicode mapping")
    _drop_margins(pages)
    return Document(rows=_emit(pages), title_hint=title, source_format="pdf")


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _ERR_PASSWORD:
            raise ParseFailed(MSG_ENCRYPTED, str(exc)) from None
        raise ParseFailed(MSG_CORRUPT, str(exc)) from None
    except _bad_file_errors() as exc:
        raise ParseFailed(MSG_CORRUPT, f"{type(exc).__name__}: {exc}") from None


def _bad_file_errors() -> tuple[type[BaseException], ...]:
    """What PDFium (``PdfiumError`` is a ``RuntimeError``) and pdfminer raise for a damaged file."""
    errors: tuple[type[BaseException], ...] = (
        RuntimeError, ValueError, KeyError, IndexError, TypeError, AttributeError, OSError, SyntaxError,
        AssertionError, EOFError, ZeroDivisionError, OverflowError,
    )  # fmt: skip
    try:
        from pdfminer.psexceptions import PSException
        from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException
    except ImportError:  # pragma: no cover - pdfminer always comes with pdfplumber
        return errors
    return (*errors, PSException, PdfminerException, MalformedPDFException)


def _title_hint(pdf: Any) -> str | None:
    """The metadata title, only when it is Chinese and names a year.

    Producers often leave a template's or file's name there (淮安 2024: "政府信息公开工作年度报告",
    without agency or year); the printed title in the text is then the better source.
    """
    try:
        title = normalize_space(pdf.get_metadata_value("Title") or "")
    except _bad_file_errors():
        return None
    return title if any(is_cjk(ch) for ch in title) and re.search(r"(19|20)\d{2}", title) else None


def _read_pages(pdf: Any, data: bytes) -> tuple[list[_Page], int, int]:
    pages: list[_Page] = []
    page_chars: list[list[_Char]] = []
    visible = unmapped = 0
    fallback = _MinerFallback(data)
    try:
        for index in range(len(pdf)):
            chars, bad, edges, height = _read_page(pdf, index, fallback)
            visible += sum(1 for c in chars if not c.ch.isspace())
            unmapped += bad
            tables = _ruled_tables(edges, chars, index + 1) if len(edges) >= 4 else []
            pages.append(_Page(index + 1, height, [], tables))
            page_chars.append(chars)
    finally:
        fallback.close()
    if not any(p.tables for p in pages):
        for page, chars in zip(pages, page_chars, strict=True):
            page.tables = _text_strategy_tables(chars, page.number)
    for page, chars in zip(pages, page_chars, strict=True):
        owned = {id(ch) for t in page.tables for cell in t.cells for ch in cell.chars}
        page.lines = _lines([c for c in chars if id(c) not in owned])
    return pages, visible, unmapped


def _read_page(pdf: Any, index: int, fallback: _MinerFallback) -> tuple[list[_Char], int, list[dict[str, Any]], float]:
    """Characters, unmapped count, ruling edges and height of one page."""
    page = pdf[index]
    try:
        top = page.get_mediabox()[3]
        height = page.get_height()
        objects = list(_page_objects(page.raw))
        edges = _edges(objects, top)
        textpage = page.get_textpage()
        try:
            if any(_dropped_text(obj, textpage.raw) for obj, _, kind in objects if kind == _OBJ_TEXT):
                chars, bad = fallback.chars(index)
            else:
                chars, bad = _chars(textpage, top)
        finally:
            textpage.close()
    finally:
        page.close()
    return chars, bad, edges, height


class _MinerFallback:
    """pdfminer (through pdfplumber) characters, for pages PDFium cannot fully read.

    PDFium leaves out any text object whose glyphs it cannot measure — a one-character line in a
    CJK font that is not embedded (``STSong-Light`` from reportlab or iText) on a machine without
    CJK fonts. pdfminer reads the same text from the font's CMap, ten times slower, so it is only
    opened when a page has such an object.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pdf: Any = None

    def chars(self, index: int) -> tuple[list[_Char], int]:
        if self.pdf is None:
            import pdfplumber

            self.pdf = pdfplumber.open(io.BytesIO(self.data))
        out: list[_Char] = []
        unmapped = 0
        for c in self.pdf.pages[index].chars:
            a, b = c["matrix"][0], c["matrix"][1]
            angle = math.atan2(b, a) % (2 * math.pi)
            if min(abs(angle - k * math.pi / 2) for k in range(5)) > 0.05:
                continue
            text = c["text"]
            if text.startswith("(cid:"):
                unmapped += 1
            out.extend(_Char(ch, c["x0"], c["x1"], c["top"], c["bottom"]) for ch in text)
        return out, unmapped

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()


def _page_objects(page_raw: Any) -> Iterator[tuple[Any, tuple[float, ...], int]]:
    """Every page object (forms entered) with its transform to page space and its type."""
    import pypdfium2.raw as R

    def walk(count: int, get: Any, parent: tuple[float, ...], depth: int) -> Iterator[tuple[Any, tuple[float, ...], int]]:
        m = R.FS_MATRIX()
        for i in range(count):
            obj = get(i)
            kind = R.FPDFPageObj_GetType(obj)
            R.FPDFPageObj_GetMatrix(obj, m)
            matrix = _compose((m.a, m.b, m.c, m.d, m.e, m.f), parent)
            yield obj, matrix, kind
            if kind == _OBJ_FORM and depth < 8:
                n = R.FPDFFormObj_CountObjects(obj)
                yield from walk(n, lambda k, f=obj: R.FPDFFormObj_GetObject(f, k), matrix, depth + 1)

    yield from walk(R.FPDFPage_CountObjects(page_raw), lambda k: R.FPDFPage_GetObject(page_raw, k),
                    (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), 0)  # fmt: skip


def _compose(m: tuple[float, ...], parent: tuple[float, ...]) -> tuple[float, ...]:
    """``m`` followed by ``parent`` (PDF row-vector convention)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = parent
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2, e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _dropped_text(obj: Any, textpage: Any) -> bool:
    """A text object PDFium gives no size and no text (its text page leaves the object out)."""
    import pypdfium2.raw as R

    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if not R.FPDFPageObj_GetBounds(obj, left, bottom, right, top) or right.value - left.value >= 0.01:
        return False
    return R.FPDFTextObj_GetText(obj, textpage, None, 0) <= 2  # the length counts the terminator


# --- characters and lines --------------------------------------------------------------------------


def _chars(textpage: Any, top: float) -> tuple[list[_Char], int]:
    """Non-generated characters with loose boxes in top-down coordinates, and the unmapped count."""
    import pypdfium2.raw as R

    raw = textpage.raw
    n = R.FPDFText_CountChars(raw)
    rect = R.FS_RECTF()
    tight = tuple(ctypes.c_double() for _ in range(4))
    out: list[_Char] = []
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
        out.append(_Char(chr(u), left, right, top - upper, top - bottom))
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


def _char_lines(chars: list[_Char]) -> list[list[_Char]]:
    """Group characters into lines by vertical centre, top to bottom, each left to right."""
    groups: list[list[_Char]] = []
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


def _lines(chars: list[_Char]) -> list[_Line]:
    """The text lines of a set of characters."""
    return [line for g in _char_lines(chars) if (line := _make_line(g)) is not None]


def _make_line(chars: list[_Char]) -> _Line | None:
    parts: list[str] = []
    prev: _Char | None = None
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
    return _Line(
        text,
        min(c.x0 for c in chars),
        max(c.x1 for c in chars),
        min(c.top for c in chars),
        max(c.bottom for c in chars),
    )


# --- ruling lines ----------------------------------------------------------------------------------


def _edges(objects: list[tuple[Any, tuple[float, ...], int]], top: float) -> list[dict[str, Any]]:
    """Horizontal and vertical segments of visible paths, as pdfplumber edge dicts."""
    import pypdfium2.raw as R

    out: list[dict[str, Any]] = []
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    x, y = ctypes.c_float(), ctypes.c_float()
    for raw, (a, b, c, d, e, f), kind in objects:
        if kind != _OBJ_PATH or not _visible(raw, fill, stroke):
            continue
        n = R.FPDFPath_CountSegments(raw)
        if n <= 0 or n > _MAX_SEGMENTS:
            continue
        start = prev = None
        for i in range(n):
            seg = R.FPDFPath_GetPathSegment(raw, i)
            R.FPDFPathSegment_GetPoint(seg, x, y)
            pt = (a * x.value + c * y.value + e, top - (b * x.value + d * y.value + f))
            seg_kind = R.FPDFPathSegment_GetType(seg)
            if seg_kind == _SEG_MOVETO:
                start = prev = pt
            else:
                if seg_kind == _SEG_LINETO and prev is not None:
                    _add_edge(out, prev, pt)
                prev = pt
            if R.FPDFPathSegment_GetClose(seg) and start is not None and prev is not None:
                _add_edge(out, prev, start)
                prev = start
    return out


def _visible(raw: Any, fill: ctypes.c_int, stroke: ctypes.c_int) -> bool:
    """Is the path drawn in a colour that shows on white paper?

    Word's PDF export paints every cell background as a white filled rectangle, cut along the
    underlying column grid even where cells are merged (洪泽 2023: ``（六）其他处理`` over two
    columns is two white rectangles). Their edges are invisible and must not split cells.
    """
    import pypdfium2.raw as R

    if not R.FPDFPath_GetDrawMode(raw, fill, stroke):
        return True
    rgba = [ctypes.c_uint() for _ in range(4)]
    if stroke.value and R.FPDFPageObj_GetStrokeColor(raw, *rgba) and _shows(rgba):
        return True
    return bool(fill.value) and bool(R.FPDFPageObj_GetFillColor(raw, *rgba)) and _shows(rgba)


def _shows(rgba: list[ctypes.c_uint]) -> bool:
    r, g, b, a = (v.value for v in rgba)
    return a > 0 and min(r, g, b) < 250


def _add_edge(out: list[dict[str, Any]], p: tuple[float, float], q: tuple[float, float]) -> None:
    (x0, y0), (x1, y1) = p, q
    if abs(y0 - y1) < 0.5 and abs(x1 - x0) >= 1:
        lo, hi = sorted((x0, x1))
        out.append({"x0": lo, "x1": hi, "top": y0, "bottom": y0, "doctop": y0, "width": hi - lo,
                    "height": 0.0, "orientation": "h", "object_type": "line"})  # fmt: skip
    elif abs(x0 - x1) < 0.5 and abs(y1 - y0) >= 1:
        lo, hi = sorted((y0, y1))
        out.append({"x0": x0, "x1": x0, "top": lo, "bottom": hi, "doctop": lo, "width": 0.0,
                    "height": hi - lo, "orientation": "v", "object_type": "line"})  # fmt: skip


# --- tables ------------------------------------------------------------------------------------------


def _cell_boxes(edges: list[dict[str, Any]]) -> list[list[tuple[float, float, float, float]]]:
    """pdfplumber's lines strategy: merged edges → intersections → cells → tables (cell bboxes)."""
    from pdfplumber import table as pt
    from pdfplumber import utils as pu

    edges = pu.filter_edges(edges, min_length=1)
    edges = pt.merge_edges(edges + _closing_edges(edges), SNAP, SNAP, SNAP, SNAP)
    edges = pu.filter_edges(edges, min_length=3)
    cells = pt.intersections_to_cells(pt.edges_to_intersections(edges, SNAP, SNAP))
    return [[tuple(c) for c in t] for t in pt.cells_to_tables(cells)]  # type: ignore[misc]


def _closing_edges(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Horizontal edges across vertical rules that end together: the open side of a table cut by a page.

    Word draws no bottom border where a table breaks across pages (and no top border where it
    resumes), so without this the cells of the last and first rows would never close.
    """
    verticals = [e for e in edges if e["orientation"] == "v"]
    out: list[dict[str, Any]] = []
    for key in ("top", "bottom"):
        ends = sorted(verticals, key=lambda e: e[key])
        group: list[dict[str, Any]] = []
        for e in [*ends, None]:
            if e is not None and (not group or e[key] - group[0][key] <= SNAP):
                group.append(e)
                continue
            if len(group) >= 2:
                y = sum(g[key] for g in group) / len(group)
                lo, hi = min(g["x0"] for g in group), max(g["x0"] for g in group)
                _add_edge(out, (lo, y), (hi, y))
            group = [e] if e is not None else []
    return out


def _cluster(values: list[float], tolerance: float = 1.0) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= tolerance:
            continue
        out.append(v)
    return out


def _index(bounds: list[float], v: float) -> int:
    """Index of the boundary nearest to ``v``."""
    i = bisect.bisect_left(bounds, v)
    if i == len(bounds) or (i > 0 and v - bounds[i - 1] < bounds[i] - v):
        i -= 1
    return i


def _build_table(boxes: list[tuple[float, float, float, float]], chars: list[_Char], page: int) -> _Table | None:
    """A table from its cell boxes with the characters inside; ``None`` for a one-column text box."""
    xs = _cluster([b[0] for b in boxes] + [b[2] for b in boxes])
    ys = _cluster([b[1] for b in boxes] + [b[3] for b in boxes])
    if len(xs) < 3 or len(ys) < 2:
        return None
    cells: list[_TCell] = []
    occupied: dict[tuple[int, int], _TCell] = {}
    for x0, top, x1, bottom in boxes:
        r0, r1, c0, c1 = _index(ys, top), _index(ys, bottom), _index(xs, x0), _index(xs, x1)
        if r1 <= r0 or c1 <= c0:
            continue
        cell = _TCell(xs[c0], xs[c1], r0, r1 - r0, ys[r0], ys[r1])
        cells.append(cell)
        for r in range(r0, r1):
            for c in range(c0, c1):
                occupied.setdefault((r, c), cell)
    for ch in chars:
        cx = (ch.x0 + ch.x1) / 2
        if not (xs[0] <= cx <= xs[-1] and ys[0] <= ch.cy <= ys[-1]):
            continue
        cell = occupied.get((bisect.bisect_right(ys, ch.cy) - 1, bisect.bisect_right(xs, cx) - 1))
        if cell is not None:
            cell.chars.append(ch)
    for cell in cells:
        _set_text(cell)
    n = len(ys) - 1
    return _Table(cells, n, [page] * n, xs[0], xs[-1], ys[0], ys[-1])


def _set_text(cell: _TCell) -> None:
    lines = _lines(cell.chars)
    cell.text = join_pieces([ln.text for ln in lines])
    if lines:
        cell.text_top, cell.text_bottom = lines[0].top, lines[-1].bottom


def _ruled_tables(edges: list[dict[str, Any]], chars: list[_Char], page: int) -> list[_Table]:
    tables = [_build_table(t, chars, page) for t in _cell_boxes(edges)]
    return sorted((t for t in tables if t is not None), key=lambda t: t.top)


def _text_strategy_tables(chars: list[_Char], page: int) -> list[_Table]:
    """pdfplumber's "text" strategy on runs of tabular lines (used only when no page has ruled tables).

    A tabular line has three or more words, two of them numbers; a run of three or more such lines,
    with the line just above as its header when that line has three or more words, is given to
    ``words_to_edges_h``/``words_to_edges_v``. Prose never reaches the finder.
    """
    groups = _char_lines(chars)
    words = [_line_words(g) for g in groups]
    tabular = [len(ws) >= 3 and sum(1 for w in ws if _NUMBER.match(str(w["text"]))) >= 2 for ws in words]
    tables: list[_Table] = []
    i = 0
    while i < len(groups):
        j = i
        while j < len(groups) and tabular[j]:
            j += 1
        if j - i >= 3:
            start = i - 1 if i > 0 and len(words[i - 1]) >= 3 else i
            run_chars = [c for g in groups[start:j] for c in g]
            table = _text_table([w for ws in words[start:j] for w in ws], run_chars, page, j - start)
            if table is not None:
                tables.append(table)
        i = max(j, i + 1)
    return tables


def _text_table(words: list[dict[str, Any]], chars: list[_Char], page: int, lines: int) -> _Table | None:
    from pdfplumber import table as pt

    edges = pt.words_to_edges_h(words, word_threshold=1) + pt.words_to_edges_v(words, word_threshold=max(3, lines // 2))
    for e in edges:
        e.setdefault("doctop", e["top"])
        e.setdefault("height", e["bottom"] - e["top"])
        e.setdefault("width", e["x1"] - e["x0"])
        e["object_type"] = "line"
    built = [_build_table(t, chars, page) for t in _cell_boxes(edges)]
    best = max((t for t in built if t is not None), key=lambda t: len(t.cells), default=None)
    return _drop_empty_rows(best) if best is not None else None


def _drop_empty_rows(table: _Table) -> _Table:
    """Remove rows in which no cell starts with text (the gaps between text lines)."""
    keep = sorted({c.row for c in table.cells if c.text})
    index = {r: k for k, r in enumerate(keep)}
    cells = []
    for c in table.cells:
        if c.row in index:
            c.rowspan = max(1, sum(1 for r in keep if c.row <= r < c.row + c.rowspan))
            c.row = index[c.row]
            cells.append(c)
    return _Table(cells, len(keep), [table.row_pages[0]] * len(keep), table.x0, table.x1, table.top, table.bottom)


def _line_words(line_chars: list[_Char]) -> list[dict[str, Any]]:
    """Words of one line: runs of characters without a space or a gap wider than half an em."""
    words: list[dict[str, Any]] = []
    current: list[_Char] = []
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


def _word(chars: list[_Char]) -> dict[str, Any]:
    return {"text": "".join(c.ch for c in chars), "x0": min(c.x0 for c in chars), "x1": max(c.x1 for c in chars),
            "top": min(c.top for c in chars), "bottom": max(c.bottom for c in chars)}  # fmt: skip


# --- page furniture ----------------------------------------------------------------------------------


def _drop_margins(pages: list[_Page]) -> None:
    """Drop page numbers and lines repeated in the top/bottom margin of most pages."""

    def in_margin(line: _Line, page: _Page) -> bool:
        return line.bottom < page.height * MARGIN or line.top > page.height * (1 - MARGIN)

    repeated: Counter[str] = Counter()
    for page in pages:
        seen = {re.sub(r"\d+", "#", ln.text) for ln in page.lines if in_margin(ln, page)}
        repeated.update(seen)
    threshold = max(2, (len(pages) + 1) // 2)
    for page in pages:
        page.lines = [
            ln
            for ln in page.lines
            if not (
                in_margin(ln, page)
                and (_PAGE_NUMBER.match(ln.text) or repeated[re.sub(r"\d+", "#", ln.text)] >= threshold)
            )
        ]


# --- stitching tables across pages and emitting rows ------------------------------------------------


@dataclass
class _Logical:
    """A table as the reader sees it: one or more page parts stitched together."""

    index: int
    parts: list[_Table]
    cells: list[_TCell] = field(default_factory=list)
    nrows: int = 0
    row_pages: list[int] = field(default_factory=list)

    def append(self, part: _Table) -> None:
        offset = self.nrows
        for c in part.cells:
            c.row += offset
        self.cells.extend(part.cells)
        self.nrows += part.nrows
        self.row_pages.extend(part.row_pages)
        self.parts.append(part)


def _emit(pages: list[_Page]) -> list[Row]:
    """Rows in reading order; tables continued over a page break become one table."""
    items: list[tuple[int, float, _Line | _Table]] = []
    for page in pages:
        for ln in page.lines:
            items.append((page.number, ln.top, ln))
        for t in page.tables:
            items.append((page.number, t.top, t))
    items.sort(key=lambda it: (it[0], it[1], isinstance(it[2], _Line)))
    heights = {page.number: page.height for page in pages}
    out: list[Row | _Logical] = []
    tables = 0
    for number, _, item in items:
        if isinstance(item, _Line):
            out.append(text_row(item.text, page=number))
            continue
        last = out[-1] if out else None
        if isinstance(last, _Logical) and _continues(last, item, number, heights):
            _stitch(last, item)
            continue
        logical = _Logical(tables, [])
        logical.append(item)
        out.append(logical)
        tables += 1
    rows: list[Row] = []
    for entry in out:
        rows.extend(_logical_rows(entry) if isinstance(entry, _Logical) else [entry])
    return rows


def _continues(prev: _Logical, part: _Table, page: int, heights: dict[int, float]) -> bool:
    """Does ``part`` continue ``prev`` over a page break?

    Nothing may stand between them (the caller checks), the previous part must be on the page
    before and ``part`` start in the upper third of ``page``, the outer borders must line up, and
    most of ``part``'s column rules must continue rules of ``prev`` (table 四 after table 三 does
    not). The previous part need not reach the page bottom: rows that may not break across pages
    leave space there.
    """
    last = prev.parts[-1]
    if last.row_pages[-1] != page - 1 or part.top > heights[page] / 3:
        return False
    if abs(last.x0 - part.x0) > BORDER_TOLERANCE or abs(last.x1 - part.x1) > BORDER_TOLERANCE:
        return False
    bounds = _cluster([c.x0 for c in prev.cells] + [c.x1 for c in prev.cells], tolerance=2.5)
    mine = _cluster([c.x0 for c in part.cells] + [c.x1 for c in part.cells], tolerance=2.5)
    matched = sum(1 for x in mine if abs(bounds[_index(bounds, x)] - x) <= BORDER_TOLERANCE)
    return matched * 2 >= len(mine)


def _row_texts(cells: list[_TCell], row: int) -> list[str]:
    return [c.text for c in sorted(cells, key=lambda c: c.x0) if c.row == row]


def _stitch(prev: _Logical, part: _Table) -> None:
    """Append a continuation part: drop a repeated header, mend cells cut by the page break."""
    skip = 0
    while skip < min(part.nrows - 1, prev.nrows) and _row_texts(part.cells, skip) == _row_texts(prev.cells, skip):
        skip += 1
    if skip:
        part = _drop_rows(part, skip)
    bounds = _cluster([c.x0 for c in prev.cells] + [c.x1 for c in prev.cells], tolerance=2.5)
    for c in part.cells:
        c.x0, c.x1 = _snap(bounds, c.x0), _snap(bounds, c.x1)
    last_row = prev.nrows - 1
    open_cells = [c for c in prev.cells if c.row + c.rowspan - 1 == last_row]
    first = sorted((c for c in part.cells if c.row == 0), key=lambda c: c.x0)
    merged: list[_TCell] = []
    for c in first:
        above = next((o for o in open_cells if _same_columns(o, c)), None)
        if above is not None and _is_cut(above, c, first):
            above.rowspan += c.rowspan
            above.text = join_pieces([above.text, c.text])
            merged.append(c)
    part.cells = [c for c in part.cells if all(c is not m for m in merged)]
    prev.append(part)


def _snap(bounds: list[float], v: float) -> float:
    """``v`` moved onto the nearest boundary of the part above when it is within the border tolerance."""
    nearest = bounds[_index(bounds, v)]
    return nearest if abs(nearest - v) <= BORDER_TOLERANCE else v


def _drop_rows(part: _Table, k: int) -> _Table:
    cells = []
    for c in part.cells:
        if c.row + c.rowspan <= k:
            continue
        if c.row < k:
            c.rowspan -= k - c.row
            c.row = k
        c.row -= k
        cells.append(c)
    return _Table(cells, part.nrows - k, part.row_pages[k:], part.x0, part.x1, part.top, part.bottom)


def _same_columns(a: _TCell, b: _TCell) -> bool:
    return abs(a.x0 - b.x0) <= BORDER_TOLERANCE and abs(a.x1 - b.x1) <= BORDER_TOLERANCE


def _is_cut(above: _TCell, below: _TCell, first_row: list[_TCell]) -> bool:
    """Is ``below`` (top row of a continuation) the rest of ``above`` (open at the previous page's end)?

    Empty: yes when either part spans several rows and ``below`` lies left of the row's first text
    (label columns, not a blank value). Non-empty: yes when either part spans several rows and the
    text runs across the break: it ends less than 0.9 line heights above the bottom edge and
    restarts less than 0.9 line heights below the top edge (淮安 2024: ``（四）无`` / ``法提供``,
    5.8 and 5.9 pt at a 7.8 pt line; a label centred in its own cell sits further from the edges).
    """
    if above.rowspan == 1 and below.rowspan == 1:
        return False
    if not below.text:
        first_text = next((c for c in first_row if c.text), None)
        return first_text is None or below.x1 <= first_text.x0 + 0.5
    if not above.text or above.text_bottom is None or below.text_top is None:
        return False
    line = below.chars[0].bottom - below.chars[0].top if below.chars else 8.0
    return above.bottom - above.text_bottom <= 0.9 * line and below.text_top - below.top <= 0.9 * line


def _logical_rows(t: _Logical) -> list[Row]:
    """Grid rows of a stitched table: columns from all parts' boundaries; empty rows squeezed out."""
    xs = _cluster([c.x0 for c in t.cells] + [c.x1 for c in t.cells], tolerance=2.5)
    starts = {c.row for c in t.cells}
    keep = [r for r in range(t.nrows) if r in starts]
    new_index = {r: i for i, r in enumerate(keep)}
    grid: list[list[Cell]] = [[] for _ in keep]
    for c in sorted(t.cells, key=lambda c: (c.row, c.x0)):
        last = c.row + c.rowspan - 1
        rowspan = sum(1 for r in keep if c.row <= r <= last)
        col0, col1 = _index(xs, c.x0), _index(xs, c.x1)
        grid[new_index[c.row]].append(Cell(c.text, col=col0, colspan=max(1, col1 - col0), rowspan=rowspan))
    return grid_rows(grid, t.index, pages=[t.row_pages[r] for r in keep])
