"""DOCX reports (Word, WPS) → :class:`Document`.

Why it walks the XML itself: python-docx exposes paragraphs and tables as two separate lists and
its table API repeats a merged cell in every grid position it covers. The label reader needs the
body in order (heading, then its table) and each merged cell exactly once with its real span, so
this module opens the package with python-docx and then walks ``w:body`` directly:

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
  else ``core_properties.title``.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nianbao.errors import ParseFailed
from nianbao.parsing.document import Cell, Document, Row, grid_rows, text_row
from nianbao.parsing.encoding import join_pieces, normalize_space

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
MAX_CELL_CHARS = 300
BAD_FILE_ERRORS = (
    ValueError, KeyError, IndexError, TypeError, AttributeError, OSError, SyntaxError, EOFError, RuntimeError,
    zipfile.BadZipFile, zlib.error,
)  # fmt: skip
"""What python-docx and lxml raise for a damaged package (programming errors are not among them)."""

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
    doc = _open(data)
    numbering = _Numbering.from_document(doc)
    body = doc.element.body
    walker = _Walker(numbering)
    walker.blocks(body)
    title = _title_hint(walker.leading, doc)
    return Document(rows=walker.rows, title_hint=title, source_format="docx")


def _open(data: bytes) -> Any:
    """Open the package with python-docx; a damaged or foreign file is a :class:`ParseFailed`."""
    import docx
    from docx.opc.exceptions import OpcError

    try:
        return docx.Document(io.BytesIO(data))
    except (*BAD_FILE_ERRORS, OpcError) as exc:  # BadZipFile, missing parts, XML errors, not a Word file…
        raise ParseFailed(MSG_CORRUPT, f"{type(exc).__name__}: {exc}") from None


def _val(el: Any, path: str, default: str | None = None) -> str | None:
    """``w:val`` of the first element at ``path`` under ``el`` (namespaced with ``w:``)."""
    if el is None:
        return default
    found = el.find(path.replace("w:", W))
    if found is None:
        return default
    return found.get(f"{W}val", default)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# --- automatic numbering ---------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"


def _chinese(n: int, digits: str = _CN_DIGITS, ten: str = "十") -> str:
    if n <= 0 or n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else (ten if tens == 1 else digits[tens] + ten)
    return head + (digits[ones] if ones else "") if n >= 10 else digits[n]


def _roman(n: int) -> str:
    out = ""
    for value, sym in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while n >= value:
            out += sym
            n -= value
    return out


def format_number(n: int, fmt: str) -> str:
    """Render counter ``n`` in a Word ``w:numFmt``; unknown formats fall back to decimal."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    table = {
        "chineseCounting": lambda: _chinese(n),
        "chineseCountingThousand": lambda: _chinese(n),
        "taiwaneseCountingThousand": lambda: _chinese(n),
        "chineseLegalSimplified": lambda: _chinese(n, _CN_LEGAL, "拾"),
        "ideographTraditional": lambda: _TIANGAN[(n - 1) % 10],
        "ideographZodiac": lambda: _DIZHI[(n - 1) % 12],
        "decimalEnclosedCircle": lambda: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
        "decimalEnclosedCircleChinese": lambda: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
        "decimalFullWidth": lambda: "".join(chr(0xFF10 + int(d)) for d in str(n)),
        "decimalZero": lambda: f"{n:02d}",
        "upperRoman": lambda: _roman(n),
        "lowerRoman": lambda: _roman(n).lower(),
        "upperLetter": lambda: letters[(n - 1) % 26] * ((n - 1) // 26 + 1),
        "lowerLetter": lambda: letters[(n - 1) % 26].lower() * ((n - 1) // 26 + 1),
        "none": lambda: "",
    }
    return table.get(fmt, lambda: str(n))()


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    legal: bool = False


@dataclass
class _Numbering:
    """Word list numbering: level definitions, style defaults and running counters."""

    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # numId → ilvl → level
    counter_key: dict[str, str] = field(default_factory=dict)  # numId → key of its counters
    style_num: dict[str, tuple[str | None, int | None, str | None]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def from_document(cls, doc: Any) -> _Numbering:
        self = cls()
        try:
            numbering = doc.part.numbering_part.element
        except (*BAD_FILE_ERRORS, NotImplementedError):  # an unreadable numbering part: nothing is numbered
            numbering = None
        if numbering is not None:
            self._load_numbering(numbering)
        try:
            styles = doc.styles.element
        except (*BAD_FILE_ERRORS, NotImplementedError):
            styles = None
        if styles is not None:
            for st in styles.iterchildren(f"{W}style"):
                num_pr = st.find(f"{W}pPr/{W}numPr")
                based = _val(st, "w:basedOn")
                num_id = _val(num_pr, "w:numId") if num_pr is not None else None
                ilvl = _val(num_pr, "w:ilvl") if num_pr is not None else None
                self.style_num[st.get(f"{W}styleId") or ""] = (num_id, _int(ilvl, 0) if ilvl else None, based)
        return self

    def _load_numbering(self, root: Any) -> None:
        abstract: dict[str, dict[int, _Level]] = {}
        for an in root.iterchildren(f"{W}abstractNum"):
            lvls: dict[int, _Level] = {}
            for lvl in an.iterchildren(f"{W}lvl"):
                lvls[_int(lvl.get(f"{W}ilvl"), 0)] = _Level(
                    start=_int(_val(lvl, "w:start"), 1),
                    fmt=_val(lvl, "w:numFmt") or "decimal",
                    text=_val(lvl, "w:lvlText") or "",
                    legal=lvl.find(f"{W}isLgl") is not None,
                )
            abstract[an.get(f"{W}abstractNumId") or ""] = lvls
        for num in root.iterchildren(f"{W}num"):
            num_id = num.get(f"{W}numId") or ""
            aid = _val(num, "w:abstractNumId") or ""
            lvls = {k: _Level(v.start, v.fmt, v.text, v.legal) for k, v in abstract.get(aid, {}).items()}
            overridden = False
            for ov in num.iterchildren(f"{W}lvlOverride"):
                ilvl = _int(ov.get(f"{W}ilvl"), 0)
                start = _val(ov, "w:startOverride")
                if start is not None and ilvl in lvls:
                    lvls[ilvl].start = _int(start, 1)
                    overridden = True
            self.levels[num_id] = lvls
            self.counter_key[num_id] = f"num:{num_id}" if overridden else f"abs:{aid}"

    def _style_numpr(self, style: str | None) -> tuple[str | None, int | None]:
        seen: set[str] = set()
        while style and style not in seen:
            seen.add(style)
            num_id, ilvl, based = self.style_num.get(style, (None, None, None))
            if num_id is not None:
                return num_id, ilvl
            style = based
        return None, None

    def label(self, p: Any) -> str:
        """The rendered list label of paragraph ``p`` (advancing the counters), or ``""``."""
        ppr = p.find(f"{W}pPr")
        num_pr = ppr.find(f"{W}numPr") if ppr is not None else None
        style_id, style_ilvl = self._style_numpr(_val(ppr, "w:pStyle"))
        num_id = (_val(num_pr, "w:numId") if num_pr is not None else None) or style_id
        ilvl = _int(_val(num_pr, "w:ilvl"), style_ilvl or 0) if num_pr is not None else (style_ilvl or 0)
        if not num_id or num_id == "0" or num_id not in self.levels:
            return ""
        levels = self.levels[num_id]
        if ilvl not in levels:
            return ""
        counts = self.counters.setdefault(self.counter_key[num_id], {})
        counts[ilvl] = counts.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counts if k > ilvl]:
            del counts[deeper]
        if levels[ilvl].fmt == "bullet":
            return ""
        text = levels[ilvl].text
        for k in range(ilvl, -1, -1):
            lvl = levels.get(k, _Level())
            n = counts.get(k, lvl.start)
            fmt = "decimal" if (levels[ilvl].legal and k < ilvl) else lvl.fmt
            text = text.replace(f"%{k + 1}", format_number(n, fmt))
        return text


# --- text of paragraphs ------------------------------------------------------------------------------


def _runs_text(el: Any, out: list[list[str]]) -> None:
    """Append the visible text under ``el`` to ``out`` (a list of lines, each a list of pieces)."""
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == f"{W}r":
            rpr = child.find(f"{W}rPr")
            vanish = rpr.find(f"{W}vanish") if rpr is not None else None
            if vanish is not None and vanish.get(f"{W}val", "true") not in ("0", "false", "off"):
                continue
        if tag == f"{W}t":
            out[-1].append(child.text or "")
        elif tag in (f"{W}tab", f"{W}ptab"):
            out[-1].append(" ")
        elif tag in (f"{W}br", f"{W}cr"):
            out.append([])
        elif tag == f"{W}noBreakHyphen":
            out[-1].append("-")
        else:
            _runs_text(child, out)


def paragraph_lines(p: Any, numbering: _Numbering) -> list[str]:
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
    numbering: _Numbering
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
        lines = paragraph_lines(p, self.numbering)
        if len(self.leading) < 5 and lines and self.tables == 0:
            self.leading.append(("".join(lines), _val(p, "w:pPr/w:jc") == "center"))
        self.rows.extend(text_row(line) for line in lines)

    def table(self, tbl: Any) -> None:
        grid = self.data_grid(tbl)
        if grid is None:
            for tr in _children(tbl, (f"{W}tr",)):
                for tc in _children(tr, (f"{W}tc",)):
                    self.blocks(tc)
            return
        self.rows.extend(grid_rows(grid, self.tables))
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
        col = _int(_val(tr, "w:trPr/w:gridBefore"), 0)
        cells: list[Cell] = []
        open_now: dict[int, Cell] = {}
        for tc in _children(tr, (f"{W}tc",)):
            tcpr = tc.find(f"{W}tcPr")
            span = max(1, _int(_val(tcpr, "w:gridSpan"), 1))
            vmerge = tcpr.find(f"{W}vMerge") if tcpr is not None else None
            hmerge = _val(tcpr, "w:hMerge")
            if hmerge == "continue" and cells:
                cells[-1].colspan += span
                col += span
                continue
            origin = above.get(col)
            if vmerge is not None and vmerge.get(f"{W}val", "continue") == "continue" and origin is not None:
                origin.rowspan += 1
                open_now[col] = origin
            else:
                cell = Cell(self.cell_text(tc), col=col, colspan=span)
                cells.append(cell)
                if vmerge is not None:
                    open_now[col] = cell
            col += span
        return cells, open_now, col


def _title_hint(leading: list[tuple[str, bool]], doc: Any) -> str | None:
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
    try:
        title = normalize_space(doc.core_properties.title or "")
    except BAD_FILE_ERRORS:  # a damaged core-properties part
        title = ""
    return title or None
