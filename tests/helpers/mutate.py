"""Mutations of real report files, and the oracle a mutated file's check must satisfy.

Shared by ``tests/parsing/test_fuzz.py`` (a few dozen examples per format, every run) and
``benchmarks/fuzz.py`` (minutes to hours), so a crash the long run finds is reproduced by the same
code. Every mutator is a function ``(data, rng) -> bytes``, deterministic for a seeded
:class:`random.Random`.

Two kinds:

* byte mutations (flip, insert, delete, duplicate, overwrite with magic bytes, truncate) for every
  format: they mostly test how a damaged file is refused;
* structure-aware mutations that keep the container valid so the damage reaches the readers — the
  text inside ``<w:t>``, Word table rows shuffled and cells deleted, spreadsheet values and
  references, HTML rows, cells and spans, text lines and numbers, PDF numbers, keywords and
  content streams (decompressed, edited, recompressed). Values are replaced by
  :func:`arbitrary_text`: digits and CJK, full-width and enclosed digits, huge and signed numbers,
  labels of the report form, every kind of space, control and zero-width characters, markup.

The oracle (:func:`result_problems`) is what must hold for *any* input: ``check_bytes`` returns,
within a time bound, a valid :class:`~nianbao.model.report.CheckResult` whose status agrees with
its findings, that serialises to JSON, and that is never the reader-bug answer (「内部错误」).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import time
import traceback
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_inputs"
REAL = ROOT.parent / "shared" / "corpus" / "real"

Mutator = Callable[[bytes, random.Random], bytes]

FORMATS = ("text", "html", "docx", "xlsx", "pdf")
_EXTENSIONS = {".txt": "text", ".md": "text", ".html": "html", ".htm": "html", ".docx": "docx", ".xlsx": "xlsx",
               ".pdf": "pdf"}  # fmt: skip
INTERNAL_ERROR_MARK = "内部错误"


# --- seed files ---------------------------------------------------------------------------------------------


def format_of(name: str) -> str | None:
    return _EXTENSIONS.get(Path(name).suffix.lower())


def seed_files(fmt: str, include_real: bool = True) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of the real files of one format: ``sample_inputs/`` and, when it is beside
    the checkout, ``../shared/corpus/real/`` (absent for users; then only the samples)."""
    folders = [SAMPLES] + ([REAL] if include_real and REAL.is_dir() else [])
    out: list[tuple[str, bytes]] = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.endswith(".json") and format_of(path.name) == fmt:
                out.append((path.name, path.read_bytes()))
    return out


# --- arbitrary values ---------------------------------------------------------------------------------------

_LABELS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计", "本年新收政府信息公开申请数量",
           "上年结转", "予以公开", "不予公开", "结转下年度继续办理", "行政复议", "行政诉讼", "维持", "纠正",
           "一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、", "（七）总计",
           "第二十条第（一）项", "信息内容", "本年制发件数", "处理决定数量", "万元", "年度报告", "2023年")  # fmt: skip
_NUMBERS = ("0", "1", "-1", "+3", "－3", "007", "1,234", "1，234", "3.5", "4068.208", "1e309", "-0", "NaN", "inf",
            "9" * 40, "9" * 400, "２３", "①", "⑳", "٣", "三", "十二", "0x1F", "½", "1/2", "12%", "—", "-", "/", "无",
            "", " ", "2147483648", "-9223372036854775809")  # fmt: skip
_ODD = ("\u3000", "\xa0", "\t", "\n", "\r", "\r\n", "\u200b", "\ufeff", "\u202e", "\x00", "\x01", "\x1f", "\x7f",
        "\u2028", "\x85", "\ud800", "\U0001f600", "𠀀", "&", "<", ">", '"', "'", "]]>", "<!--", "%1", "{", "\\",
        "|", "\t|\t", "&amp;", "&#0;", "&#x110000;", "&nbsp;")  # fmt: skip


def arbitrary_text(rng: random.Random) -> str:
    """A value a cell should never crash on: numbers in every spelling, labels, odd characters."""
    pieces: list[str] = []
    for _ in range(rng.choice((1, 1, 1, 2, 3, 6))):
        pool = rng.random()
        if pool < 0.35:
            pieces.append(rng.choice(_NUMBERS))
        elif pool < 0.6:
            pieces.append(rng.choice(_LABELS))
        elif pool < 0.85:
            pieces.append(rng.choice(_ODD))
        elif pool < 0.95:
            pieces.append("".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 12))))
        else:
            pieces.append(rng.choice(_LABELS + _NUMBERS) * rng.randrange(10, 500))
    return "".join(pieces)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def xml_text(rng: random.Random) -> bytes:
    """Arbitrary text for inside an XML element: escaped, except now and then (a broken part)."""
    text = arbitrary_text(rng)
    if rng.random() < 0.1:
        return _encode(text)
    return _encode(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


# --- byte mutations -----------------------------------------------------------------------------------------

_MAGIC = (b"\x00", b"\xff", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"PK\x03\x04", b"PK\x05\x06", b"%PDF-1.7",
          b"%%EOF", b"endobj", b"stream", b"<", b">", b"<<", b">>", b"</", b"&", b"\xef\xbb\xbf", b"\xfe\xff", b"\r\n",
          b"\t", b"|", b"-1", b"99999999999")  # fmt: skip


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randrange(1, 9)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def insert_bytes(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    junk = rng.choice((rng.randbytes(rng.randrange(1, 64)), rng.choice(_MAGIC)))
    return data[:at] + junk + data[at:]


def delete_range(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randrange(1, max(2, min(4096, len(data) // 4))) :]


def duplicate_range(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    chunk = data[at : at + rng.randrange(1, 2048)]
    to = rng.randrange(len(data) + 1)
    return data[:to] + chunk * rng.randrange(1, 4) + data[to:]


def overwrite_magic(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    magic = rng.choice(_MAGIC)
    at = rng.randrange(len(data))
    return data[:at] + magic + data[at + len(magic) :]


def truncate(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    return data[: rng.choice((rng.randrange(len(data)), int(len(data) * rng.uniform(0.9, 1.0)), rng.randrange(64)))]


BYTE_MUTATORS: dict[str, Mutator] = {
    "flip": flip_bits, "insert": insert_bytes, "delete": delete_range, "duplicate": duplicate_range,
    "magic": overwrite_magic, "truncate": truncate,
}  # fmt: skip


# --- helpers for regex-located spans ------------------------------------------------------------------------


def _replace_groups(data: bytes, pattern: re.Pattern[bytes], rng: random.Random, new: Callable[[], bytes],
                    group: int = 1, most: int = 8) -> bytes:  # fmt: skip
    """Replace ``group`` of up to ``most`` random matches of ``pattern`` with ``new()``."""
    matches = list(pattern.finditer(data))
    if not matches:
        return data
    chosen = sorted(rng.sample(matches, min(len(matches), rng.randrange(1, most + 1))), key=lambda m: m.start())
    out, last = [], 0
    for m in chosen:
        out += [data[last : m.start(group)], new()]
        last = m.end(group)
    out.append(data[last:])
    return b"".join(out)


def _shuffle_spans(data: bytes, pattern: re.Pattern[bytes], rng: random.Random) -> bytes:
    """Permute a random run of the non-overlapping matches of ``pattern`` among themselves."""
    matches = list(pattern.finditer(data))
    if len(matches) < 2:
        return data
    start = rng.randrange(len(matches) - 1)
    run = matches[start : start + rng.randrange(2, 12)]
    texts = [m.group(0) for m in run]
    rng.shuffle(texts)
    out, last = [], 0
    for m, text in zip(run, texts, strict=True):
        out += [data[last : m.start()], text]
        last = m.end()
    out.append(data[last:])
    return b"".join(out)


def _delete_spans(data: bytes, pattern: re.Pattern[bytes], rng: random.Random, most: int = 5) -> bytes:
    """Delete up to ``most`` random matches of ``pattern``."""
    return _replace_groups(data, pattern, rng, lambda: b"", group=0, most=most)


def _duplicate_span(data: bytes, pattern: re.Pattern[bytes], rng: random.Random) -> bytes:
    matches = list(pattern.finditer(data))
    if not matches:
        return data
    m = rng.choice(matches)
    return data[: m.end()] + m.group(0) * rng.randrange(1, 40) + data[m.end() :]


_ATTR_VALUES = (b"0", b"1", b"2", b"-1", b"99", b"1000", b"65535", b"2147483647", b"2147483648", b"999999999999",
                b"restart", b"continue", b"", b"abc", b"1e9", b" 3", b"3x", b"%1%1%1", b"\xe4\xb8\x80",
                b"A1:XFD1048576", b"XFD1048576", b"A0", b"ZZZZ1", b"A1:A", b"B2:A1")  # fmt: skip


# --- zip packages (DOCX, XLSX) ------------------------------------------------------------------------------


def _zip_edit(data: bytes, rng: random.Random, edit: Callable[[dict[str, bytes], random.Random], None]) -> bytes:
    """Unzip, ``edit`` the parts in place, zip again (valid CRCs: the damage reaches the XML)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = {i.filename: zf.read(i) for i in zf.infolist()}
    except Exception:  # already damaged by an earlier mutation: damage it further
        return flip_bits(data, rng)
    edit(parts, rng)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return out.getvalue()


def _edit_part(prefix: str, fn: Callable[[bytes, random.Random], bytes]) -> Callable[[dict[str, bytes], random.Random], None]:
    """An edit applying ``fn`` to one random XML part whose name starts with ``prefix``."""

    def edit(parts: dict[str, bytes], rng: random.Random) -> None:
        names = [n for n in parts if n.startswith(prefix) and n.endswith((".xml", ".rels"))]
        if names:
            name = rng.choice(names)
            parts[name] = fn(parts[name], rng)

    return edit


def zip_part_bytes(data: bytes, rng: random.Random) -> bytes:
    """A byte mutation inside one decompressed XML part."""
    mutator = rng.choice(list(BYTE_MUTATORS.values()))
    return _zip_edit(data, rng, _edit_part("", mutator))


def zip_drop_part(data: bytes, rng: random.Random) -> bytes:
    def edit(parts: dict[str, bytes], rng: random.Random) -> None:
        if parts:
            del parts[rng.choice(sorted(parts))]

    return _zip_edit(data, rng, edit)


def zip_attrs(data: bytes, rng: random.Random) -> bytes:
    """Attribute values of any XML part (spans, merges, numbering, references, ids) set to odd ones."""
    pattern = re.compile(rb'\s[\w:]+="([^"]*)"')
    return _zip_edit(data, rng, _edit_part("", lambda b, r: _replace_groups(b, pattern, r, lambda: r.choice(_ATTR_VALUES))))


_W_T = re.compile(rb"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")
_W_TR = re.compile(rb"<w:tr[\s>].*?</w:tr>", re.DOTALL)
_W_TC = re.compile(rb"<w:tc[\s>].*?</w:tc>", re.DOTALL)
_W_P = re.compile(rb"<w:p[\s>].*?</w:p>", re.DOTALL)


def _document(fn: Callable[[bytes, random.Random], bytes]) -> Mutator:
    return lambda data, rng: _zip_edit(data, rng, _edit_part("word/document", fn))


DOCX_MUTATORS: dict[str, Mutator] = {
    "docx_text": _document(lambda b, r: _replace_groups(b, _W_T, r, lambda: xml_text(r), most=20)),
    "docx_shuffle_rows": _document(lambda b, r: _shuffle_spans(b, _W_TR, r)),
    "docx_delete_cells": _document(lambda b, r: _delete_spans(b, _W_TC, r)),
    "docx_duplicate_rows": _document(lambda b, r: _duplicate_span(b, _W_TR, r)),
    "docx_shuffle_paragraphs": _document(lambda b, r: _shuffle_spans(b, _W_P, r)),
    "zip_attrs": zip_attrs,
    "zip_part_bytes": zip_part_bytes,
    "zip_drop_part": zip_drop_part,
}

_X_V = re.compile(rb"<v>([^<]*)</v>")
_X_T = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")
_X_ROW = re.compile(rb"<row[\s>].*?</row>", re.DOTALL)
_X_REF = re.compile(rb'\s(?:r|ref|sqref|min|max|s|t)="([^"]*)"')


def _sheets(fn: Callable[[bytes, random.Random], bytes]) -> Mutator:
    return lambda data, rng: _zip_edit(data, rng, _edit_part("xl/", fn))


def xlsx_openpyxl_values(data: bytes, rng: random.Random) -> bytes:
    """Cells set to arbitrary values, and a few ranges merged, through openpyxl (a valid workbook)."""
    import datetime as dt

    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data))
    except Exception:  # already damaged by an earlier mutation: damage it further
        return flip_bits(data, rng)
    if not wb.worksheets:
        return flip_bits(data, rng)
    ws = rng.choice(wb.worksheets)
    rows, cols = max(ws.max_row, 1), max(ws.max_column, 1)
    values: tuple[object, ...] = (0, -1, 10**20, 2.5, float("1e300"), True, dt.date(2023, 1, 1), dt.datetime(1900, 1, 1),
                                  dt.time(12, 0), "=1/0", "=SUM(A1:A3)")  # fmt: skip
    for _ in range(rng.randrange(1, 30)):
        cell = ws.cell(row=rng.randrange(1, rows + 3), column=rng.randrange(1, cols + 3))
        if isinstance(cell, openpyxl.cell.cell.MergedCell):
            continue
        # openpyxl refuses control characters and surrogates: the XML mutators cover those
        cell.value = rng.choice(values) if rng.random() < 0.3 else _UNWRITABLE.sub("", arbitrary_text(rng))
    for _ in range(rng.randrange(0, 3)):
        r, c = rng.randrange(1, rows + 1), rng.randrange(1, cols + 1)
        with contextlib.suppress(ValueError):  # overlapping an existing merge
            ws.merge_cells(start_row=r, start_column=c, end_row=r + rng.randrange(0, 4), end_column=c + rng.randrange(1, 4))
    out = io.BytesIO()
    try:
        wb.save(out)
    except Exception:  # a mutated workbook openpyxl can load but not write back
        return flip_bits(data, rng)
    return out.getvalue()


_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


XLSX_MUTATORS: dict[str, Mutator] = {
    "xlsx_values": _sheets(lambda b, r: _replace_groups(b, _X_V, r, lambda: xml_text(r), most=20)),
    "xlsx_text": _sheets(lambda b, r: _replace_groups(b, _X_T, r, lambda: xml_text(r), most=20)),
    "xlsx_refs": _sheets(lambda b, r: _replace_groups(b, _X_REF, r, lambda: r.choice(_ATTR_VALUES), most=6)),
    "xlsx_shuffle_rows": _sheets(lambda b, r: _shuffle_spans(b, _X_ROW, r)),
    "xlsx_openpyxl_values": xlsx_openpyxl_values,
    "zip_attrs": zip_attrs,
    "zip_part_bytes": zip_part_bytes,
    "zip_drop_part": zip_drop_part,
}


# --- HTML ---------------------------------------------------------------------------------------------------

_H_TR = re.compile(rb"<tr[\s>].*?</tr>", re.DOTALL | re.IGNORECASE)
_H_TD = re.compile(rb"<t[dh](?:\s[^>]*)?>(.*?)</t[dh]>", re.DOTALL | re.IGNORECASE)
_H_TD_OPEN = re.compile(rb"<t[dh]()[\s>]", re.IGNORECASE)
_H_SPAN = re.compile(rb'(?:col|row)span="?([^"\s>]*)', re.IGNORECASE)
_TAGS = (b"<table>", b"</table>", b"<tr>", b"</tr>", b"<td>", b"</td>", b'<td colspan="3" rowspan="0">', b"<br>",
         b"<p>", b"</div>", b"<!--", b"-->", b"<![CDATA[", b"<script>", b"<style>", b"<h1>", b"<title>", b"<meta charset=gbk>",
         b"<?xml version='1.0' encoding='utf-16'?>", b"&nbsp;", b"&#xd800;", b"<td hidden>", b'<tr style="display:none">')  # fmt: skip


def html_insert_tags(data: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.randrange(1, 6)):
        at = rng.randrange(len(data) + 1)
        data = data[:at] + rng.choice(_TAGS) + data[at:]
    return data


def _html_cell(rng: random.Random) -> bytes:
    text = arbitrary_text(rng)
    return _encode(text if rng.random() < 0.2 else text.replace("&", "&amp;").replace("<", "&lt;"))


HTML_MUTATORS: dict[str, Mutator] = {
    "html_shuffle_rows": lambda d, r: _shuffle_spans(d, _H_TR, r),
    "html_cell_text": lambda d, r: _replace_groups(d, _H_TD, r, lambda: _html_cell(r), most=20),
    "html_spans": lambda d, r: _replace_groups(d, _H_SPAN, r, lambda: r.choice(_ATTR_VALUES), most=6),
    "html_add_spans": lambda d, r: _replace_groups(d, _H_TD_OPEN, r, lambda: b' rowspan="%d" colspan="%d"' % (
        r.choice((0, 1, 2, 30, 1000, 100000)), r.choice((0, 1, 2, 30, 1000, 100000))), most=6),  # fmt: skip
    "html_delete_cells": lambda d, r: _delete_spans(d, _H_TD, r),
    "html_duplicate_rows": lambda d, r: _duplicate_span(d, _H_TR, r),
    "html_insert_tags": html_insert_tags,
}


# --- text ---------------------------------------------------------------------------------------------------

_NUMBER = re.compile(rb"\d+(?:\.\d+)?")


def _lines(fn: Callable[[list[bytes], random.Random], None]) -> Mutator:
    def mutate(data: bytes, rng: random.Random) -> bytes:
        lines = data.split(b"\n")
        fn(lines, rng)
        return b"\n".join(lines)

    return mutate


def _shuffle_lines(lines: list[bytes], rng: random.Random) -> None:
    if len(lines) > 1:
        start = rng.randrange(len(lines) - 1)
        run = lines[start : start + rng.randrange(2, 30)]
        rng.shuffle(run)
        lines[start : start + len(run)] = run


def _separators(lines: list[bytes], rng: random.Random) -> None:
    for _ in range(rng.randrange(1, 10)):
        i = rng.randrange(len(lines))
        at = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + rng.choice((b"\t", b"|", b" | ", b"\t\t", b"|---|", b"  ")) + lines[i][at:]


def _duplicate_lines(lines: list[bytes], rng: random.Random) -> None:
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.randrange(1, 20)


def text_reencode(data: bytes, rng: random.Random) -> bytes:
    """The same text in another encoding agencies use (with or without a BOM)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return flip_bits(data, rng)
    codec, bom = rng.choice((("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("gb18030", b""),
                             ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b""), ("big5", b"")))  # fmt: skip
    return bom + text.encode(codec, "replace")


TEXT_MUTATORS: dict[str, Mutator] = {
    "text_shuffle_lines": _lines(_shuffle_lines),
    "text_numbers": lambda d, r: _replace_groups(d, _NUMBER, r, lambda: _encode(arbitrary_text(r)), group=0, most=30),
    "text_separators": _lines(_separators),
    "text_duplicate_lines": _lines(_duplicate_lines),
    "text_reencode": text_reencode,
}


# --- PDF ----------------------------------------------------------------------------------------------------

_P_INT = re.compile(rb"(?<![\w.])(\d+)(?![\w.])")
_P_KEYWORD = re.compile(rb"endobj|endstream|stream|xref|trailer|startxref|obj|/Type\s*/Page\b|/Kids|/Count|/Length|"
                        rb"/Filter|/FlateDecode|/Font|/Resources|/MediaBox|/Contents|/XObject|/Encrypt")  # fmt: skip
_P_STREAM = re.compile(rb"/Length (\d+)([^>]*>>\s*stream\r?\n)", re.DOTALL)
_PDF_NUMBERS = (b"0", b"-1", b"1", b"3", b"99999", b"2147483647", b"4294967296", b"1e38", b"-0.0", b"NaN", b"0.000001")
_CONTENT_OPS = (b" re f ", b" q ", b" Q ", b" 0 0 1 1 re S ", b" BT ", b" ET ", b" Tj ", b" TJ ", b" cm ",
                b" 1000 0 0 1000 0 0 cm ", b" Do ", b" W n ", b" [(x)] TJ ", b" 0 Tf ", b" 1e30 Tz ", b" -1 Ts ")  # fmt: skip


def pdf_numbers(data: bytes, rng: random.Random) -> bytes:
    """Integers of the file's syntax (object numbers, offsets, counts, lengths, boxes) set to odd ones."""
    return _replace_groups(data, _P_INT, rng, lambda: rng.choice(_PDF_NUMBERS), most=6)


def pdf_keywords(data: bytes, rng: random.Random) -> bytes:
    """PDF keywords and dictionary keys deleted or swapped for others."""
    def new() -> bytes:
        return b"" if rng.random() < 0.5 else rng.choice((b"endobj", b"stream", b"/Type /Pages", b"/Count 0", b"null"))

    return _replace_groups(data, _P_KEYWORD, rng, new, group=0, most=3)


def pdf_content(data: bytes, rng: random.Random) -> bytes:
    """One Flate content stream decompressed, its numbers and operators mutated, recompressed."""
    streams = list(_P_STREAM.finditer(data))
    rng.shuffle(streams)
    for m in streams[:8]:
        start, length = m.end(), int(m.group(1))
        try:
            content = zlib.decompress(data[start : start + length])
        except zlib.error:
            continue
        for _ in range(rng.randrange(1, 6)):
            choice = rng.random()
            if choice < 0.5:
                content = _replace_groups(content, _P_INT, rng, lambda: rng.choice(_PDF_NUMBERS), most=10)
            elif choice < 0.8:
                at = rng.randrange(len(content) + 1)
                content = content[:at] + rng.choice(_CONTENT_OPS) * rng.randrange(1, 50) + content[at:]
            else:
                content = rng.choice(list(BYTE_MUTATORS.values()))(content, rng)
        packed = zlib.compress(content)
        return data[: m.start(1)] + str(len(packed)).encode() + m.group(2) + packed + data[start + length :]
    return pdf_numbers(data, rng)


PDF_MUTATORS: dict[str, Mutator] = {"pdf_numbers": pdf_numbers, "pdf_keywords": pdf_keywords, "pdf_content": pdf_content}

STRUCTURE_MUTATORS: dict[str, dict[str, Mutator]] = {
    "text": TEXT_MUTATORS, "html": HTML_MUTATORS, "docx": DOCX_MUTATORS, "xlsx": XLSX_MUTATORS, "pdf": PDF_MUTATORS,
}  # fmt: skip


def mutators(fmt: str) -> dict[str, Mutator]:
    """Every mutator for a format: its structure-aware ones and the byte ones."""
    return {**STRUCTURE_MUTATORS[fmt], **BYTE_MUTATORS}


def mutate(data: bytes, fmt: str, rng: random.Random, rounds: int | None = None) -> tuple[bytes, list[str]]:
    """``data`` after 1–3 mutations (structure-aware ones twice as likely), and their names."""
    structure = list(STRUCTURE_MUTATORS[fmt].items())
    byte = list(BYTE_MUTATORS.items())
    applied: list[str] = []
    for _ in range(rounds if rounds is not None else rng.choice((1, 1, 2, 3))):
        name, fn = rng.choice(structure) if rng.random() < 0.67 else rng.choice(byte)
        data = fn(data, rng)
        applied.append(name)
    return data, applied


# --- the oracle ---------------------------------------------------------------------------------------------


def result_problems(result: object) -> list[str]:
    """Everything wrong with a check result for *any* input (empty when it is well-formed)."""
    from nianbao.check import status_of
    from nianbao.model.report import CheckResult

    if not isinstance(result, CheckResult):
        return [f"not a CheckResult: {type(result).__name__}"]
    problems: list[str] = []
    try:
        text = result.model_dump_json()
        again = CheckResult.model_validate_json(text)  # pydantic-valid
        json.loads(result.to_json())
        if json.loads(again.model_dump_json()) != json.loads(text):  # tuples come back as lists: compare JSON
            problems.append("does not survive a JSON round trip")
    except Exception as exc:
        problems.append(f"not serialisable: {type(exc).__name__}: {exc}")
    if result.status not in ("accepted", "returned", "failed"):
        problems.append(f"status {result.status!r}")
    parse_failed = [f for f in result.findings if f.rule == "PARSE-FAILED"]
    if result.status == "failed" and (len(parse_failed) != 1 or len(result.findings) != 1):
        problems.append(f"failed with findings {[f.rule for f in result.findings]}")
    if result.status != "failed" and parse_failed:
        problems.append(f"{result.status} with a PARSE-FAILED finding")
    if result.status != status_of(result.findings):
        problems.append(f"status {result.status} but findings say {status_of(result.findings)}")
    for f in result.findings:
        if INTERNAL_ERROR_MARK in f.message:
            problems.append(f"reader bug: {f.message}")
        if not f.message.strip():
            problems.append(f"{f.rule} without a message")
    return problems


@dataclass
class Outcome:
    """One checked input: how long it took, what was wrong, and the result's status."""

    seconds: float
    status: str = ""
    problems: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def run_check(data: bytes, name: str, time_limit: float) -> Outcome:
    """``check_bytes`` on one input, judged by :func:`result_problems` and ``time_limit``."""
    from nianbao.check import check_bytes

    start = time.perf_counter()
    try:
        _, result = check_bytes(data, name)
    except Exception as exc:  # check_bytes must not raise for any input (MemoryError included)
        return Outcome(time.perf_counter() - start, "", [f"raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}"])
    seconds = time.perf_counter() - start
    problems = result_problems(result)
    if seconds > time_limit:
        problems.append(f"took {seconds:.1f} s (limit {time_limit:.0f} s)")
    return Outcome(seconds, result.status, problems, [f.message for f in result.findings[:3]])
