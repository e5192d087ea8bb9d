"""Hostile and broken files, built in memory for ``tests/parsing/test_hostile.py``.

Why builders and not committed binaries: a zip bomb is a few kilobytes of deflate but a gigabyte
once inflated, a PDF of a thousand pages is easier to describe than to review, and each case says
in code exactly what is hostile about it. Every builder is deterministic.

Zips are written by hand (:func:`build_zip`) where ``zipfile`` would refuse to lie: a member
whose declared size or CRC does not match its data, a deflate stream inflating to a gigabyte
without ever holding the gigabyte, a central directory of a million entries.
"""

from __future__ import annotations

import functools
import html
import http.server
import io
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.helpers import render_formats as rf
from tests.helpers.mutate import result_problems
from tests.helpers.synthetic import SyntheticReport, make_report

if TYPE_CHECKING:
    from nianbao.model.report import CheckResult

ROOT = Path(__file__).resolve().parents[2]
GiB = 1024**3
MiB = 1024**2


# --- the reports the hostile files start from ----------------------------------------------------------


@functools.cache
def report() -> SyntheticReport:
    return make_report("2021", seed=7, agency="示例县人民政府", year=2023)


@functools.cache
def docx_report() -> bytes:
    return rf.render_docx(report())


@functools.cache
def xlsx_report() -> bytes:
    return rf.render_xlsx(report())


@functools.cache
def html_report() -> bytes:
    return rf.render_html(report())


@functools.cache
def pdf_report() -> bytes:
    return rf.render_pdf(report())


def text_report() -> str:
    """A complete report as plain text (the accepted sample of the repository)."""
    return (ROOT / "sample_inputs" / "cangtai-2023.txt").read_text(encoding="utf-8")


# --- zips written by hand ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RawMember:
    """A zip member exactly as stored: ``data`` is already compressed when ``method`` is 8."""

    name: str
    data: bytes
    method: int
    crc: int
    size: int
    """The uncompressed size the headers declare (true or not)."""


def stored(name: str, content: bytes) -> RawMember:
    return RawMember(name, content, 0, zlib.crc32(content), len(content))


def deflated(name: str, content: bytes) -> RawMember:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return RawMember(name, c.compress(content) + c.flush(), 8, zlib.crc32(content), len(content))


@functools.cache
def _zeros_stream(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes and its CRC, built from one compressed MiB.

    A full flush ends each MiB on a byte boundary with an empty history, so the same compressed
    bytes repeat: a gigabyte costs one MiB of compression and 1 MB of memory.
    """
    assert size % MiB == 0
    chunk = bytes(MiB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(size // MiB):
        crc = zlib.crc32(chunk, crc)
    return block * (size // MiB) + end, crc


def zeros_member(name: str, size: int, declared: int | None = None, crc: int | None = None) -> RawMember:
    """``size`` zeros, deflated; the headers may declare another size or CRC (a lying header)."""
    data, real_crc = _zeros_stream(size)
    return RawMember(name, data, 8, real_crc if crc is None else crc, size if declared is None else declared)


def build_zip(members: list[RawMember], *, declared_entries: int | None = None) -> bytes:
    """A zip of ``members`` with local headers, central directory and end record as declared."""
    out = io.BytesIO()
    central = io.BytesIO()
    for m in members:
        name = m.name.encode("utf-8")
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, m.method, 0, 0x21, m.crc, len(m.data), m.size,
                              len(name), 0))  # fmt: skip
        out.write(name)
        out.write(m.data)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0x800, m.method, 0, 0x21, m.crc, len(m.data),
                                  m.size, len(name), 0, 0, 0, 0, 0, offset))  # fmt: skip
        central.write(name)
    cd = central.getvalue()
    n = len(members) if declared_entries is None else declared_entries
    start = out.tell()
    out.write(cd)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(n, 0xFFFF), min(n, 0xFFFF), len(cd), start, 0))
    return out.getvalue()


def unzip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def rezip(data: bytes, replace: dict[str, bytes] | None = None, extra: list[RawMember] | None = None) -> bytes:
    """The package with some parts replaced (``b""`` drops a part) and raw members appended."""
    replace = replace or {}
    members = [deflated(name, replace.get(name, content)) for name, content in unzip(data)
               if replace.get(name, content) != b""]  # fmt: skip
    return build_zip(members + (extra or []))


def huge_directory_zip(entries: int = 1_000_000) -> bytes:
    """A central directory of ``entries`` one-byte names (47 MB): no zip bomb by size, only by count."""
    entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    cd = entry * entries
    local = b"PK\x03\x04" + bytes(26)
    return local + cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(cd), len(local), 0)


def docx_zip_bomb(size: int = GiB) -> bytes:
    """A working report with one extra part of ``size`` zeros (about 1 MB compressed per GiB)."""
    return rezip(docx_report(), extra=[zeros_member("word/media/image1.png", size)])


def xlsx_zip_bomb(size: int = GiB) -> bytes:
    return rezip(xlsx_report(), extra=[zeros_member("xl/media/image1.png", size)])


def lying_part(kind: str, size: int = GiB) -> bytes:
    """The main XML part replaced by ``size`` zeros whose headers declare 1 KB (with the CRC of that KB)."""
    part = "word/document.xml" if kind == "docx" else "xl/worksheets/sheet1.xml"
    base = docx_report() if kind == "docx" else xlsx_report()
    lie = zeros_member(part, size, declared=1024, crc=zlib.crc32(bytes(1024)))
    members = [deflated(n, c) for n, c in unzip(base) if n != part]
    return build_zip([*members, lie])


def many_members(kind: str, n: int = 5_000) -> bytes:
    base = docx_report() if kind == "docx" else xlsx_report()
    return rezip(base, extra=[stored(f"customXml/pad{i}.xml", b"<a/>") for i in range(n)])


# --- XML entity attacks --------------------------------------------------------------------------------

LAUGHS = "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' if i else '<!ENTITY lol0 "lol">' for i in range(10)
)
"""Ten levels of ten: ``&lol9;`` is a billion ``lol`` (3 GB) once expanded."""


ATTACKS = ("laughs", "external", "dtd")
"""``laughs``: the billion laughs, referenced; ``external``: entities naming a secret file and the
local HTTP server, referenced; ``dtd``: an external DTD and a parameter entity on that server."""


def doctype(root: str, attack: str, secret_path: Path, url: str) -> tuple[str, str]:
    """The DOCTYPE of one attack and the entity references that would expand it."""
    if attack == "laughs":
        return f"<!DOCTYPE {root} [{LAUGHS}]>", "&lol9;"
    if attack == "external":
        decl = f'<!ENTITY secret SYSTEM "file://{secret_path}"><!ENTITY remote SYSTEM "{url}entity">'
        return f"<!DOCTYPE {root} [{decl}]>", "&secret;&remote;"
    return f'<!DOCTYPE {root} SYSTEM "{url}dtd" [<!ENTITY % param SYSTEM "{url}param"> %param;]>', ""


def inject_doctype(xml: bytes, dtd: str, refs: str, text_tag: bytes) -> bytes:
    """``xml`` with ``dtd`` after its declaration and ``refs`` inside the first ``text_tag`` element."""
    decl = re.match(rb"<\?xml[^>]*\?>\s*", xml)
    head = decl.group(0) if decl else b""
    body = xml[len(head) :]
    m = re.search(rb"<" + text_tag + rb"(?:\s[^>]*)?>", body)
    if m and body[m.end() - 2 : m.end()] != b"/>":
        body = body[: m.end()] + refs.encode() + body[m.end() :]
    return head + dtd.encode() + body


def docx_with_entities(part: str, attack: str, secret_path: Path, url: str) -> bytes:
    """The report with the attack DOCTYPE in one part (``document``, ``styles``, ``numbering``…).

    A styled paragraph in a numbered list is added to the document so the reader parses the styles
    part too (it only does when numbering goes through a paragraph style).
    """
    parts = dict(unzip(docx_report()))
    name = f"word/{part}.xml"
    root = {"document": "w:document", "styles": "w:styles", "numbering": "w:numbering"}[part]
    doc = parts["word/document.xml"].replace(
        b"<w:body>",
        b'<w:body><w:p><w:pPr><w:pStyle w:val="ListNumber"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/>'
        b"</w:numPr></w:pPr><w:r><w:t>xi</w:t></w:r></w:p>"
        b'<w:p><w:r><w:t><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://'
        + str(secret_path).encode()
        + b'" parse="text"/></w:t></w:r></w:p>',
        1,
    )
    parts["word/document.xml"] = doc
    tag = b"w:t" if part == "document" else root.encode()  # styles, numbering: text under the root
    parts[name] = inject_doctype(parts[name], *doctype(root, attack, secret_path, url), tag)
    return build_zip([deflated(n, c) for n, c in parts.items()])


def with_shared_strings(parts: dict[str, bytes], strings: list[str]) -> None:
    """Add a shared-strings part (openpyxl writes inline strings) and a cell using each string."""
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    items = b"".join(b"<si><t>" + html.escape(t).encode() + b"</t></si>" for t in strings)
    parts["xl/sharedStrings.xml"] = b'<?xml version="1.0" encoding="UTF-8"?><sst ' + ns + b">" + items + b"</sst>"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')  # fmt: skip
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>",
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        b'Target="sharedStrings.xml" Id="rIdSST"/></Relationships>')  # fmt: skip
    cells = b"".join(b'<c r="Z%d" t="s"><v>%d</v></c>' % (i + 1, i) for i in range(len(strings)))
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", b'<row r="9000">' + cells + b"</row></sheetData>", 1
    )


def xlsx_with_entities(part: str, attack: str, secret_path: Path, url: str) -> bytes:
    """The workbook with the attack DOCTYPE in one part (``sharedStrings``, ``sheet1``, ``styles``…)."""
    parts = dict(unzip(xlsx_report()))
    with_shared_strings(parts, ["共享字符串"])
    name = {"sheet1": "xl/worksheets/sheet1.xml"}.get(part, f"xl/{part}.xml")
    root = {"sharedStrings": "sst", "sheet1": "worksheet", "styles": "styleSheet", "workbook": "workbook"}[part]
    tag = {"sharedStrings": b"t", "sheet1": b"t", "styles": b"styleSheet", "workbook": b"workbook"}[part]
    parts[name] = inject_doctype(parts[name], *doctype(root, attack, secret_path, url), tag)
    return build_zip([deflated(n, c) for n, c in parts.items()])


def html_with_entities(attack: str, secret_path: Path, url: str) -> bytes:
    """The report page with the attack DOCTYPE, entity references and every kind of remote reference."""
    page = html_report().decode("utf-8")
    dtd, refs = doctype("html", attack, secret_path, url)
    page = page.replace("<!DOCTYPE html>", dtd, 1)
    remote = (
        f'<p>{refs}</p><img src="{url}img"><link rel="stylesheet" href="{url}css">'
        f'<script src="{url}js"></script><iframe src="{url}frame"></iframe><object data="{url}obj"></object>'
        f'<svg><image href="file://{secret_path}"/></svg>'
    )
    return page.replace("<body>", "<body>" + remote, 1).encode("utf-8")


@contextmanager
def counting_http_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server answering every request with a secret; yields its URL and the paths hit."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            hits.append(self.path)
            body = b'<!ENTITY leaked "HTTP-SECRET-LEAKED">HTTP-SECRET-LEAKED'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- HTML ------------------------------------------------------------------------------------------------


def deep_html(depth: int = 200_000, tag: str = "div") -> bytes:
    return f"<html><body>{f'<{tag}>' * depth}深处的文字{f'</{tag}>' * depth}</body></html>".encode()


def deep_tables_html(depth: int = 20_000) -> bytes:
    return f"<html><body>{'<table><tr><td>' * depth}x{'</td></tr></table>' * depth}</body></html>".encode()


def long_table_html(rows: int = 100_000) -> bytes:
    body = "".join(f"<tr><td>第{i}行</td><td>{i}</td><td>{i % 7}</td></tr>" for i in range(rows))
    return f"<html><body><h1>报告</h1><table>{body}</table></body></html>".encode()


def huge_spans_html(rows: int = 2_000, span: int = 100_000) -> bytes:
    body = "".join(f'<tr><td colspan="{span}" rowspan="{span}">{i}</td><td rowspan="{span}">x</td></tr>'
                   for i in range(rows))  # fmt: skip
    return f"<html><body><table>{body}</table></body></html>".encode()


def tables_as_images_html() -> bytes:
    """The report page with each table replaced by an ``<img>`` of it."""
    r = report()
    values = rf.Values(r)
    body: list[str] = []
    for kind, item in rf.blocks(r, values):
        if kind == "table":
            body.append(f'<p><img src="table{item.name}.png" alt="表{item.name}"></p>')
        elif kind == "title":
            body.append(f"<h1>{html.escape(item)}</h1>")
        else:
            body.append(f"<p>{html.escape(item)}</p>")
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{''.join(body)}</body></html>".encode()


# --- DOCX ------------------------------------------------------------------------------------------------


def png(width: int = 40, height: int = 20) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 200)).save(buf, "PNG")
    return buf.getvalue()


def tables_as_images_docx() -> bytes:
    """The report as Word writes it, but each table pasted as a picture."""
    import docx
    from docx.shared import Cm

    r = report()
    doc = docx.Document()
    for kind, item in rf.blocks(r, rf.Values(r)):
        if kind == "table":
            doc.add_picture(io.BytesIO(png()), width=Cm(12))
        else:
            doc.add_paragraph(item)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def docx_with_body(body_xml: bytes, numbering: bytes | None = None) -> bytes:
    """The report package with ``w:body`` replaced (and optionally its numbering part)."""
    parts = dict(unzip(docx_report()))
    doc = parts["word/document.xml"]
    start = doc.index(b"<w:body>") + len(b"<w:body>")
    end = doc.index(b"</w:body>")
    parts["word/document.xml"] = doc[:start] + body_xml + doc[end:]
    if numbering is not None:
        parts["word/numbering.xml"] = numbering
    return build_zip([deflated(n, c) for n, c in parts.items()])


def paragraph(text: str, num_id: int | None = None) -> bytes:
    num = f'<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr>' if num_id else ""
    return f"<w:p>{num}<w:r><w:t>{html.escape(text)}</w:t></w:r></w:p>".encode()


W_NS = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def numbering_xml(fmt: str, start: int, lvl_text: str, ilvl: int = 0) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:numbering ' + W_NS + b">"
        b'<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="' + str(ilvl).encode() + b'">'
        b'<w:start w:val="' + str(start).encode() + b'"/><w:numFmt w:val="' + fmt.encode() + b'"/>'
        b'<w:lvlText w:val="' + html.escape(lvl_text).encode() + b'"/></w:lvl></w:abstractNum>'
        b'<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>'
    )


def numbering_bomb_docx(paragraphs: int = 20_000) -> bytes:
    """Numbered paragraphs whose labels would grow without bound: letters from a start of a billion,
    a label template of 10,000 ``%1``, and a level numbered a billion."""
    body = b"".join(paragraph(f"第{i}段", num_id=1) for i in range(paragraphs))
    return docx_with_body(body, numbering_xml("upperLetter", 10**9, "%1" * 10_000, ilvl=0))


def deep_level_docx() -> bytes:
    """A list level numbered a billion, used by a paragraph: the label loop must not count down from it."""
    body = b'<w:p><w:pPr><w:numPr><w:ilvl w:val="999999999"/><w:numId w:val="1"/></w:numPr></w:pPr>' \
           b"<w:r><w:t>x</w:t></w:r></w:p>" * 10  # fmt: skip
    return docx_with_body(body, numbering_xml("decimal", 1, "%1.", ilvl=999_999_999))


def nested_sdt_docx(depth: int = 100_000) -> bytes:
    """Content controls nested far deeper than libxml2's limit of 256."""
    return docx_with_body(b"<w:sdt><w:sdtContent>" * depth + paragraph("深处") + b"</w:sdtContent></w:sdt>" * depth)


def deep_runs_docx(depth: int = 250) -> bytes:
    """A run inside ``depth`` nested hyperlinks (libxml2 allows 256 levels in all): the deepest the
    recursive text walk can be asked to go."""
    return docx_with_body(b"<w:p>" + b"<w:hyperlink>" * depth + b"<w:r><w:t>\xe6\xb7\xb1</w:t></w:r>"
                          + b"</w:hyperlink>" * depth + b"</w:p>")  # fmt: skip


def nested_tables_docx(depth: int = 80) -> bytes:
    """Layout tables nested ``depth`` deep (240 XML levels: just inside libxml2's limit)."""
    open_ = b"<w:tbl><w:tr><w:tc>"
    close = b"</w:tc></w:tr></w:tbl>"
    return docx_with_body(open_ * depth + paragraph("最里层") + close * depth + b"<w:p/>")


def empty_paragraphs_docx(n: int = 900_000, distinct: bool = False) -> bytes:
    """``n`` empty paragraphs; ``distinct`` gives each its own revision id, so the part does not compress
    like a zip bomb (about 3×) and reaches the reader."""
    if not distinct:
        return docx_with_body(b"<w:p/>" * n)
    import random

    rng = random.Random(n)
    return docx_with_body(b"".join(b'<w:p w:rsidR="%08X"><w:r/></w:p>' % rng.getrandbits(32) for _ in range(n // 3)))


def huge_grid_span_docx() -> bytes:
    cell = b'<w:tc><w:tcPr><w:gridSpan w:val="2147483647"/><w:vMerge w:val="restart"/></w:tcPr>' + paragraph("1") + b"</w:tc>"
    cont = b'<w:tc><w:tcPr><w:gridSpan w:val="2147483647"/><w:vMerge/></w:tcPr><w:p/></w:tc>'
    row0 = b'<w:tr><w:trPr><w:gridBefore w:val="999999999"/></w:trPr>' + cell * 3 + b"</w:tr>"
    return docx_with_body(b"<w:tbl>" + row0 + (b"<w:tr>" + cont * 3 + b"</w:tr>") * 3000 + b"</w:tbl><w:p/>")


def chained_parts_docx(n: int = 1_500) -> bytes:
    """Each part related to the next, ``n`` deep: a recursive walk of the relationships overflows."""
    parts = dict(unzip(docx_report()))
    ct = parts["[Content_Types].xml"]
    parts["[Content_Types].xml"] = ct.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/octet-stream"/></Types>')
    rels_ns = b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
    doc_rels = parts["word/_rels/document.xml.rels"]
    parts["word/_rels/document.xml.rels"] = doc_rels.replace(
        b"</Relationships>", b'<Relationship Id="rIdChain" Type="urn:chain" Target="chain/p0.bin"/></Relationships>'
    )
    for i in range(n):
        parts[f"word/chain/p{i}.bin"] = b"x"
        parts[f"word/chain/_rels/p{i}.bin.rels"] = (
            b"<Relationships " + rels_ns + b'><Relationship Id="r" Type="urn:chain" Target="p'
            + str(i + 1).encode() + b'.bin"/></Relationships>'
        )  # fmt: skip
    parts[f"word/chain/p{n}.bin"] = b"x"
    return build_zip([deflated(name, c) for name, c in parts.items()])


# --- XLSX ------------------------------------------------------------------------------------------------


def xlsx_sheet_edit(edit: dict[bytes, bytes], extra_rows: bytes = b"") -> bytes:
    """The report workbook with replacements in sheet1 and ``extra_rows`` appended to its sheetData."""
    parts = dict(unzip(xlsx_report()))
    sheet = parts["xl/worksheets/sheet1.xml"]
    for old, new in edit.items():
        sheet = re.sub(old, new, sheet, count=1)
    if extra_rows:
        sheet = sheet.replace(b"</sheetData>", extra_rows + b"</sheetData>", 1)
    parts["xl/worksheets/sheet1.xml"] = sheet
    return build_zip([deflated(n, c) for n, c in parts.items()])


def xlsx_huge_dimension() -> bytes:
    """The report declaring ``A1:XFD1048576`` (openpyxl would pad every row to 16,384 cells)."""
    return xlsx_sheet_edit({rb'<dimension ref="[^"]*"/>': b'<dimension ref="A1:XFD1048576"/>'})


def xlsx_empty_rows(n: int = 1_000_000, start: int = 100, distinct: bool = False) -> bytes:
    """``n`` empty formatted rows; ``distinct`` gives each its own height, so the sheet does not
    compress like a zip bomb and reaches the tag budget instead."""
    if distinct:
        rows = b"".join(b'<row r="%d" ht="%d.%d" customHeight="1"/>' % (r, r % 97, r % 89) for r in range(start, start + n))
    else:
        rows = b"".join(b'<row r="%d" customFormat="1" s="0"/>' % r for r in range(start, start + n))
    return xlsx_sheet_edit({rb'<dimension ref="[^"]*"/>': b'<dimension ref="A1:XFD1048576"/>'}, rows)


def xlsx_far_cell() -> bytes:
    """One value in the sheet's last row and column, under a declared dimension of the whole sheet."""
    row = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return xlsx_sheet_edit({rb'<dimension ref="[^"]*"/>': b'<dimension ref="A1:XFD1048576"/>'}, row)


def xlsx_with_merges(merges: bytes, cols: bytes = b"") -> bytes:
    """The report workbook with ``<mergeCell>`` elements (and ``<col>`` elements) added to sheet1."""
    parts = dict(unzip(xlsx_report()))
    sheet = parts["xl/worksheets/sheet1.xml"]
    if b"<mergeCells" in sheet:
        sheet = re.sub(rb"<mergeCells[^>]*>", lambda m: m.group(0) + merges, sheet, count=1)
    else:
        sheet = sheet.replace(b"</sheetData>", b"</sheetData><mergeCells>" + merges + b"</mergeCells>", 1)
    if cols:
        sheet = sheet.replace(b"<sheetData", b"<cols>" + cols + b"</cols><sheetData", 1)
    parts["xl/worksheets/sheet1.xml"] = sheet
    return build_zip([deflated(n, c) for n, c in parts.items()])


def xlsx_huge_merges() -> bytes:
    """The whole sheet merged, a hidden column range of a billion columns, and many medium merges."""
    merges = b'<mergeCell ref="A1:XFD1048576"/>' + b"".join(
        b'<mergeCell ref="A%d:CV%d"/>' % (r, r + 999) for r in range(2000, 400_000, 1000)
    )
    return xlsx_with_merges(merges, b'<col min="3" max="999999999" hidden="1"/>')


def xlsx_beyond_the_grid() -> bytes:
    """A row numbered a billion, cells past column XFD and merged ranges below row 1,048,576."""
    rows = (b'<row r="2000000"><c r="ZZZ2000000" t="inlineStr"><is><t>x</t></is></c></row>'
            b'<row r="1000000000"><c r="A1000000000" t="inlineStr"><is><t>x</t></is></c></row>')  # fmt: skip
    parts = dict(unzip(xlsx_with_merges(b'<mergeCell ref="A50000000:B50000001"/><mergeCell ref="ZZZ1:ZZZ3"/>')))
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b"</sheetData>", rows + b"</sheetData>", 1)
    return build_zip([deflated(n, c) for n, c in parts.items()])


def xlsx_wide_block(rows: int, table: bool) -> bytes:
    """``rows`` rows under the report with one value in A (a text block), or a table of ``rows`` rows
    with values in A and XFD: text rows scanned all 16,384 columns, a table block's width is all of them."""
    if table:
        body = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c><c r="XFD%d"><v>2</v></c></row>' % (r, r, r)
                        for r in range(100, 100 + rows))  # fmt: skip
    else:
        body = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(100, 100 + rows))
        body += b'<row r="%d"><c r="XFD%d"><v>2</v></c></row>' % (rows + 200, rows + 200)
    return xlsx_sheet_edit({}, body)


# --- PDF -------------------------------------------------------------------------------------------------


def encrypted_pdf(user_password: str = "pw") -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=user_password)
    c.setFont("Helvetica", 12)
    c.drawString(72, 720, "Annual report 2023 " * 3)
    c.save()
    return buf.getvalue()


def image_only_pdf() -> bytes:
    """A scan: one page holding only a picture."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawImage(ImageReader(io.BytesIO(png(400, 600))), 50, 100, width=400, height=600)
    c.save()
    return buf.getvalue()


def many_pages_pdf(pages: int = 2_000) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    for i in range(pages):
        c.setFont("Helvetica", 10)
        c.drawString(72, 720, f"page {i}")
        c.showPage()
    c.save()
    return buf.getvalue()


def declared_pages_pdf(count: int = 10**9) -> bytes:
    """The report with its page tree declaring ``count`` pages."""
    data = pdf_report()
    return re.sub(rb"/Count \d+", b"/Count " + str(count).encode(), data)


def dense_page_pdf(chars: int = 300_000) -> bytes:
    """One page with ``chars`` tiny characters and as many tiny ruling lines."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 1)
    per_line = 1_000
    text = "0123456789" * (per_line // 10)
    for i in range(chars // per_line):
        c.drawString(2, 2 + (i % 800), text)
    c.setLineWidth(0.1)
    for i in range(chars // 10):
        x, y = (i * 7) % 590, (i * 13) % 840
        c.line(x, y, x + 1, y)
    c.save()
    return buf.getvalue()


# --- other files -----------------------------------------------------------------------------------------


def ole2_doc() -> bytes:
    """The header of an old binary Word file (an OLE2 compound document), padded to one sector."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHH", 0x3E, 3, 0xFFFE)
    return header.ljust(4096, b"\x00") + "WordDocument".encode("utf-16-le")


def random_bytes(n: int, seed: int) -> bytes:
    import random

    return random.Random(seed).randbytes(n)


# --- measuring a check in a fresh process ----------------------------------------------------------------

_CHILD = """
import json, resource, sys, time
from nianbao.check import check_bytes
import lxml.etree, openpyxl, pypdfium2, pdfplumber, docx  # imported before measuring: not the check's memory
from nianbao.parsing import docx as _d, html as _h, xlsx as _x, pdf as _p, text as _t
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
report, result = check_bytes(data, sys.argv[2])
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": result.status, "rules": [f.rule for f in result.findings],
                  "messages": [f.message for f in result.findings], "seconds": seconds,
                  "rss_mb": (after - before) / 1024}))
"""


def check_in_time(data: bytes, name: str, seconds: float) -> CheckResult:
    """``check_bytes`` on a hostile file: a well-formed answer, within ``seconds``."""
    from nianbao.check import check_bytes

    start = time.perf_counter()
    _, result = check_bytes(data, name)
    took = time.perf_counter() - start
    assert result_problems(result) == []
    assert took < seconds, f"{name} took {took:.2f} s"
    return result


def check_in_subprocess(data: bytes, name: str, tmp: Path, timeout: float = 120) -> dict[str, object]:
    """``check_bytes`` in a fresh interpreter: status, rules, messages, seconds and peak RSS growth (MB)."""
    path = tmp / name
    path.write_bytes(data)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), name], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ruled_grid_pdf(n: int = 150, staggered: bool = False) -> bytes:
    """One page ruled into an ``n`` × ``n`` grid of single-cell rectangles; ``staggered`` draws every
    border as a short, separate line at its own offset instead (nothing merges, all of it intersects)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setLineWidth(0.2)
    step = 560 / n
    for i in range(n):
        for j in range(n):
            x, y = 20 + i * step, 20 + j * step
            if staggered:
                c.line(x + (j % 7) * 0.37, y, x + step * 3, y + (i % 5) * 0.01)
                c.line(x, y + (i % 7) * 0.37, x + (j % 5) * 0.01, y + step * 3)
            else:
                c.rect(x, y, step, step)
    c.setFont("Helvetica", 6)
    c.drawString(20, 800, "ruled " * 20)
    c.save()
    return buf.getvalue()


def wide_width_range_pdf() -> bytes:
    """A sample PDF whose CID font declares widths for CIDs 18 to 2³¹ (pdfminer made a dict of them).

    Found by ``benchmarks/fuzz.py``; the sample's one-character lines in a non-embedded CJK font are
    what sends its pages to pdfminer.
    """
    data = (ROOT / "sample_inputs" / "jiangbei-district-2024.pdf").read_bytes()
    m = re.search(rb"/W \[ 1 \[[^\]]*\] 10 \[[^\]]*\] (18 26 462)", data)
    assert m is not None
    return data[: m.start(1)] + b"18 2147483647 462" + data[m.end(1) :]


def text_with_long_number(digits: int = 19_040) -> bytes:
    """The text report with its first 本年新收 count written with ``digits`` nines (int() refuses > 4,300)."""
    text = text_report()
    at = text.index("一、本年新收政府信息公开申请数量\t\t0\t") + len("一、本年新收政府信息公开申请数量\t\t")
    return (text[:at] + "9" * digits + text[at + 1 :]).encode("utf-8")


def xlsx_style_index_overflow() -> bytes:
    """The workbook whose first cell format names number format 2³² (openpyxl keeps it in a C int)."""
    parts = dict(unzip(xlsx_report()))
    parts["xl/styles.xml"] = re.sub(rb'(<cellXfs[^>]*><xf numFmtId=")0"', rb'\g<1>4294967296"', parts["xl/styles.xml"], count=1)
    return build_zip([deflated(n, c) for n, c in parts.items()])


def html_control_characters() -> bytes:
    """The report page with control characters in the tail of a script the reader drops (libxml2
    keeps them in the tree; moving the tail through lxml's API refused them)."""
    page = html_report().decode("utf-8")
    return page.replace("<body>", "<body><p>前<span>a</span><script>x</script>\x05尾\x06\x0b\x01</p>", 1).encode("utf-8")


def form_bomb_pdf(levels: int = 5, fanout: int = 10) -> bytes:
    """One page drawing a form that draws the form below it ``fanout`` times, ``levels`` deep: a
    line drawn ``fanout ** levels`` times. PDFium expands it when it loads the page (10⁶ took it
    9 s and 1.8 GB, 10⁷ aborted it), before the reader can count anything: only a sandbox bounds
    that; up to 10⁵ the reader's object budget refuses the file."""
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    form = add(b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length 14 >>\nstream\n0 0 m 5 5 l S\nendstream")
    for _ in range(levels):
        content = b"/F Do " * fanout
        form = add(b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /F %d 0 R >> >> "
                   b"/Length %d >>\nstream\n" % (form, len(content)) + content + b"\nendstream")  # fmt: skip
    content = b"BT /H 12 Tf 72 700 Td (Annual report 2023) Tj ET /F Do"
    contents = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    pages = len(objs) + 2
    page = add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
               b"/Resources << /Font << /H %d 0 R >> /XObject << /F %d 0 R >> >> >>" % (pages, contents, font, form))  # fmt: skip
    add(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    return pdf_of_objects(objs, catalog)


def pdf_of_objects(objects: list[bytes], root: int) -> bytes:
    """A PDF of ``objects`` (numbered from 1) with a correct cross-reference table."""
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
