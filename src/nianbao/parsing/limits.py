"""Limits that keep every reader's time and memory bounded on hostile or broken files.

Why: uploads come from anyone with an account, and a few hundred bytes can ask a parser for
gigabytes (a zip bomb, a sheet declaring a million rows, a table cell spanning 100,000 columns).
Each limit below sits far above anything a real annual report needs (a report has 10–40 package
parts, a few thousand XML elements, a few hundred text rows, 10–30 pages) and far below what would
stall a 2-core worker. A file over a limit is refused with a :class:`~nianbao.errors.ParseFailed`
telling the uploader what to do, never read half-way.

The helpers here are the zip guard every package reader (DOCX, XLSX, the sniffer) runs before it
opens a part, the bounded member read, the XML budget, and the safe lxml parser settings.
"""

from __future__ import annotations

import copy
import io
import struct
import zipfile
from collections.abc import Iterator
from typing import Any

from nianbao.errors import ParseFailed

MiB = 1024 * 1024

# --- zip packages and their XML -----------------------------------------------------------------------

MAX_ZIP_MEMBERS = 2_000
"""Parts in one package. A Word/Excel report has 10–40; one full of pictures a few hundred."""

MAX_ZIP_DIRECTORY_BYTES = 1 * MiB
"""Size of the zip's central directory, checked before :class:`zipfile.ZipFile` parses it:
2,000 entries with long names take about 600 KB, while parsing costs about 10 µs and 300 bytes
per entry (a 47 MB directory of a million one-byte names took 10 s and 300 MB)."""

MAX_ZIP_UNCOMPRESSED_BYTES = 256 * MiB
"""Total declared size of all parts once decompressed. Uploads are at most 50 MB and Office
formats compress text about 5–30×, pictures not at all; a real report stays under 100 MB."""

MAX_ZIP_RATIO = 200
"""Compression ratio of one large part. Word's XML compresses 10–35×; only filler (a zip bomb's
zeros, a repeated element) reaches hundreds. Deflate tops out near 1,032×."""

ZIP_RATIO_MIN_BYTES = 4 * MiB
"""The ratio is only checked for parts larger than this once decompressed: a small part that
compresses very well (an empty sheet, a settings part) costs nothing to read."""

MAX_XML_PART_BYTES = 32 * MiB
"""One XML part, decompressed. The document part of a 200-page Word report is under 10 MB; a
larger part only makes every later stage slower (lxml keeps the tree and its text in memory)."""

MAX_XML_TAGS = 500_000
"""Markup tags (``<``) in the XML parts of one DOCX package. A report has 10,000–60,000 (Word
writes about 1,200 a page, and 25,000 for its styles). Half a million make a 60 MB lxml tree, and
walking paragraphs costs the reader 5–10 µs a tag."""

MAX_XLSX_TAGS = 150_000
"""Markup tags in the XML parts of one workbook. A report workbook has 5,000–30,000; openpyxl
streams a sheet at 11–20 µs an element even when the elements are empty rows (with defusedxml's
pure-Python parser), so a sheet of a million ``<row/>`` (whole-sheet formatting) would take 15 s."""

# --- every document -----------------------------------------------------------------------------------

MAX_ROWS = 8_000
"""Rows (text lines and table rows) of one document, and lines of a text file. A report has
200–1,000 (a 40-page PDF about 1,600); reading the rows for the report's labels costs 30–250 µs a
row, depending on its length."""

MAX_TEXT_CHARS = 1_000_000
"""Characters of one document's text. A report has 10,000–60,000; the label readers normalise and
match every row several times (about 1 µs a character in all)."""

MAX_SPAN = 1_000
"""Largest colspan/rowspan honoured (what browsers honour for colspan); Word tables have at most
63 columns. A larger span is cut to this."""

MAX_TABLE_AREA = 2_000_000
"""Grid positions of one table: those its row-spanning cells cover (colspan × rowspan summed), and
for a spreadsheet block all of them (rows × columns: an empty position is a cell too). The
report's table 三 has a few hundred; 100,000 cells spanning 1,000 columns and rows would take 10¹¹
steps, one value in column XFD makes every row of its block 16,384 cells wide."""

# --- HTML ---------------------------------------------------------------------------------------------

MAX_HTML_TAGS = 400_000
"""Markup tags (``<``) of one web page, counted before parsing. A CMS page or a Word "save as web
page" report has 5,000–100,000 (Word writes a ``<span>`` per run); libxml2 needs about 120 bytes an
element and the reader's walk a few µs."""

# --- XLSX ---------------------------------------------------------------------------------------------

MAX_SHEET_ROWS = 1_048_576
"""Excel's last row. openpyxl yields every missing row before a row it reads, so a row numbered a
billion would cost ten minutes: rows, cells and merged ranges beyond it are junk and are ignored."""

MAX_SHEET_COLUMNS = 16_384
"""Excel's last column (XFD): cells and merged ranges beyond it are ignored, hidden column ranges cut."""

MAX_MERGE_AREA = 100_000
"""A merged range covering more cells is decoration (a merged column or whole sheet), never a cell
of a report table: it is ignored, so the reader does not enumerate its positions."""

MAX_MERGED_CELLS = 1_000_000
"""Positions covered by all honoured merged ranges of one sheet; beyond it the sheet is refused."""

# --- PDF ----------------------------------------------------------------------------------------------

MAX_PDF_PAGES = 200
"""Pages of one PDF. Reports have 5–40; PDFium and the table finder cost 10–50 ms a page."""

MAX_PDF_CHARS = 150_000
"""Characters PDFium finds in one PDF, counted page by page before they are read. Report pages
have 500–1,500; every character costs about 20 µs (boxes, lines, cells)."""

MAX_PDF_OBJECTS = 40_000
"""Page objects (text runs, paths, images; forms entered) of one PDF. Report pages have 100–800
(a ruled table draws each border); looking at an object costs 10–80 µs."""

MAX_PDF_SEGMENTS = 200_000
"""Segments of the paths read for ruling lines in one PDF (each path has at most 400). A ruled
report page has 2,000–5,000; each costs 5–10 µs (four PDFium calls and an edge)."""

MAX_PAGE_INTERSECTIONS = 2_000
"""Crossings of ruling lines on one page. A report page has up to 300 (table 三: 25 rows × 11
column lines); pdfplumber pairs every crossing with every other to find the cells, so a page over
this (a vector drawing, a ruled form) is not searched for tables: its text stays running text."""

MAX_PDF_TABLE_WORK = 10_000_000
"""Steps of pdfplumber's table finder in one PDF: horizontal × vertical ruling lines paired to find
crossings, plus crossings squared to find cells, summed over the pages. Reports need under
200,000; ten million take about 3 s."""

MAX_PDF_FORM_DRAWINGS = 150_000
"""Drawings of forms and images (``Do``, multiplied through forms drawing forms) on one PDF page,
counted before PDFium loads the page: its page loader expands every one, at about 1.5 KB and 8 µs
each (111,111 drawings took 180 MB and 0.9 s; twenty levels of forms drawing the next twice, 3 GB
and 17 s). Report pages draw a few (a logo, pictures), at most a few hundred. Past
:data:`MAX_PDF_OBJECTS` the reader refuses the file once the page is loaded, so this bounds only
that load, to about 250 MB and 2 s: see :mod:`nianbao.parsing.pdf.forms`."""

MAX_PDF_CONTENT_BYTES = 32 * MiB
"""Bytes of content streams (of the pages, forms and Type 3 glyphs drawn) read and decoded to count
those drawings in one PDF, about 0.5 s of work; a stage decoded in Python (LZW, RunLength, ASCII85,
predictors) counts 64 times. A report page has 5–200 KB of content, read only when it draws forms or
images (Word and WPS compress it with zlib: 10 ns a byte with the search; Python's decoders take
0.2–1 µs)."""

MAX_CID_RANGE = 65_536
"""Codes one range of a font's widths may cover (CIDs stop at 65,535); pdfminer makes an entry per
code: see :mod:`nianbao.parsing.pdf.miner_limits`."""

MAX_CMAP_ENTRIES = 200_000
"""Mappings one CMap may add in pdfminer (a CJK ToUnicode map has up to 65,536, each costs ~1 µs)."""

# --- what the uploader is told ------------------------------------------------------------------------

MSG_ZIP_BOMB = (
    "文件解压后过大或包含的部件过多，疑似压缩炸弹，无法读取；请在 Word/WPS/Excel 中重新另存后上传"
)
MSG_TOO_BIG = (
    "文件内容过多或结构过于复杂，不像是单份年度报告，无法读取；请只上传本年度的政府信息公开工作年度报告"
)
MSG_TOO_MANY_PAGES = (
    f"PDF 页数过多（超过 {MAX_PDF_PAGES} 页），不像是单份年度报告；请只上传本年度的政府信息公开工作年度报告"
)


def too_big(detail: str) -> ParseFailed:
    """The refusal for a file over one of the content limits (rows, elements, cells, tags)."""
    return ParseFailed(MSG_TOO_BIG, detail)


def check_rows(n: int) -> None:
    """Refuse a document once it has more than :data:`MAX_ROWS` rows (readers call this as they go)."""
    if n > MAX_ROWS:
        raise too_big(f"more than {MAX_ROWS} rows")


def check_document(rows: list[Any]) -> None:
    """Refuse a read document over :data:`MAX_ROWS` rows or :data:`MAX_TEXT_CHARS` characters."""
    check_rows(len(rows))
    chars = sum(len(cell.text) for row in rows for cell in row.cells)
    if chars > MAX_TEXT_CHARS:
        raise too_big(f"{chars} characters of text")


class Budget:
    """A count that refuses the file once it passes ``limit`` (tags, cells, characters, objects)."""

    __slots__ = ("limit", "used", "what")

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.used = 0

    def spend(self, n: int, where: str = "") -> None:
        self.used += n
        if self.used > self.limit:
            raise too_big(f"more than {self.limit} {self.what}" + (f" (at {where})" if where else ""))


def xml_budget(limit: int = MAX_XML_TAGS) -> Budget:
    """The budget of markup tags for the XML parts of one package (spend ``xml.count(b"<")``)."""
    return Budget(limit, "XML tags")


# --- the zip guard --------------------------------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")


def _declared_directory(data: bytes) -> tuple[int, int] | None:
    """(entries, central directory bytes) the end record declares, found the way ``zipfile`` finds it;
    ``None`` when there is no end record (``zipfile`` then refuses the file itself)."""
    pos = len(data) - _EOCD.size
    if pos < 0:
        return None
    if data[pos : pos + 4] != b"PK\x05\x06" or data[-2:] != b"\x00\x00":
        pos = data.rfind(b"PK\x05\x06", max(0, len(data) - _EOCD.size - 0x10000))
        if pos < 0 or pos + _EOCD.size > len(data):
            return None
    entries, size = _EOCD.unpack_from(data, pos)[4:6]
    locator = pos - _EOCD64_LOCATOR.size
    record = locator - _EOCD64.size
    if record >= 0 and data[locator : locator + 4] == b"PK\x06\x07" and data[record : record + 4] == b"PK\x06\x06":
        entries, size = _EOCD64.unpack_from(data, record)[7:9]
    return entries, size


def open_zip(data: bytes) -> zipfile.ZipFile:
    """The package as a :class:`zipfile.ZipFile`, once its directory passes :func:`check_zip`.

    Raises :class:`ParseFailed` for a zip bomb, or ``zipfile.BadZipFile`` (and the other errors
    ``zipfile`` raises) for a damaged zip, which the caller words in its own format's terms.
    """
    check_zip_directory(data)
    zf = zipfile.ZipFile(io.BytesIO(data))
    try:
        check_zip(zf)
    except BaseException:
        zf.close()
        raise
    return zf


def check_zip_directory(data: bytes) -> None:
    """Refuse a zip whose end record declares too many entries or too large a directory to parse."""
    declared = _declared_directory(data)
    if declared is None:
        return
    entries, size = declared
    if entries > MAX_ZIP_MEMBERS or size > MAX_ZIP_DIRECTORY_BYTES:
        raise ParseFailed(MSG_ZIP_BOMB, f"zip directory declares {entries} entries in {size} bytes")


def check_zip(zf: zipfile.ZipFile) -> None:
    """Refuse a package with too many parts, too much declared data or an absurdly compressed part."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ParseFailed(MSG_ZIP_BOMB, f"{len(infos)} zip entries")
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        if total > MAX_ZIP_UNCOMPRESSED_BYTES:
            raise ParseFailed(MSG_ZIP_BOMB, f"more than {MAX_ZIP_UNCOMPRESSED_BYTES} bytes uncompressed")
        if size > ZIP_RATIO_MIN_BYTES and size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise ParseFailed(MSG_ZIP_BOMB, f"{info.filename}: {size} bytes from {info.compress_size}")
        if size > MAX_XML_PART_BYTES and _is_xml(info.filename):
            raise ParseFailed(MSG_ZIP_BOMB, f"{info.filename}: {size} bytes of XML")


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


_CHUNK = 64 * 1024


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's data in chunks, raising ``BadZipFile`` when it runs past its declared size.

    ``ZipFile.read`` cuts a part at its declared size, but only after decompressing everything the
    compressed data holds in one call (a part declared as 1 KB can inflate to 1 GB first). Opening
    the part as one byte longer than declared and reading in chunks bounds the memory to a chunk and
    tells a part that ends where its header says from one that goes on.
    """
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1
    got = 0
    with zf.open(probe) as fh:
        while got <= info.file_size:
            chunk = fh.read(min(_CHUNK, info.file_size + 1 - got))
            if not chunk:
                break
            got += len(chunk)
            yield chunk
    if got > info.file_size:
        raise zipfile.BadZipFile(f"{info.filename}: more data than the {info.file_size} bytes declared")


def read_member(zf: zipfile.ZipFile, member: str | zipfile.ZipInfo) -> bytes:
    """A part's bytes, never more than its declared size (``KeyError`` when there is no such part)."""
    info = member if isinstance(member, zipfile.ZipInfo) else zf.getinfo(member)
    return b"".join(_chunks(zf, info))


def verify_members(zf: zipfile.ZipFile, budget: Budget) -> None:
    """Stream every XML part once: none may run past its declared size, and their tags must fit
    ``budget``. Run before handing a package to a library that reads the parts itself (openpyxl)."""
    for info in zf.infolist():
        if _is_xml(info.filename) and not info.is_dir():
            for chunk in _chunks(zf, info):
                budget.spend(chunk.count(b"<"), info.filename)


# --- XML parsers --------------------------------------------------------------------------------------


SAFE_XML_OPTIONS: dict[str, bool] = {
    "resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False,
}  # fmt: skip
"""lxml options for every XML parse: entities are never expanded (no billion laughs, no
``file:///etc/passwd``), no DTD is loaded, nothing is fetched, and libxml2 keeps its limits on
depth (256 elements) and text-node size (10 MB) that ``huge_tree`` would lift."""


def xml_parser(**options: Any) -> Any:
    """An lxml XML parser with :data:`SAFE_XML_OPTIONS` (and ``options``)."""
    from lxml import etree

    return etree.XMLParser(**SAFE_XML_OPTIONS, **options)


def html_parser(**options: Any) -> Any:
    """An lxml HTML parser with the same guarantees: libxml2's HTML parser never expands entities a
    DOCTYPE declares, and its depth limit (256) holds unless ``huge_tree`` is set."""
    from lxml import etree

    return etree.HTMLParser(no_network=True, huge_tree=False, **options)
