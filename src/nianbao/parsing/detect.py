"""Which reader a file needs, decided from its bytes.

Why from bytes: agencies rename files freely. A CMS page saved as ``报告.pdf``, a UTF-16 ``.txt``
from Notepad, a ``.docx`` that is really an old ``.doc`` — the name lies often, the first bytes
rarely. So the magic numbers and the zip directory decide, and the file name only breaks ties
(a damaged zip, a text file that could be HTML or Markdown).

Files no reader can use are refused here with a :class:`~nianbao.errors.ParseFailed` whose reason
tells the agency what to upload instead (old binary Office files, images, archives, other binaries).
"""

from __future__ import annotations

import re
import zipfile

from nianbao.errors import ParseFailed
from nianbao.parsing.limits import open_zip

Format = str
"""One of ``text``, ``html``, ``docx``, ``xlsx``, ``pdf``."""

FORMATS: tuple[Format, ...] = ("text", "html", "docx", "xlsx", "pdf")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
_HTML_MARKERS = ("<html", "<!doctype html", "<body", "<head")
_HTML_FRAGMENT_MARKERS = ("<table", "<p", "<div", "<span", "<br", "<h1", "<h2", "<tr", "<td")
_HTML_NAMES = (".html", ".htm", ".shtml", ".xhtml", ".jsp", ".asp", ".aspx", ".php")
_TAG_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

MSG_EMPTY = "文件为空，请重新上传完整的年度报告文件"
MSG_OLD_OFFICE = "这是旧版 Word/Excel/WPS 二进制文件（.doc/.xls/.wps/.et），请另存为 .docx/.xlsx 或 PDF 后重新上传"
MSG_ENCRYPTED_OFFICE = (
    "文件设置了打开密码（已加密），无法读取；请取消密码后另存为 .docx/.xlsx 或 PDF 重新上传"
)
MSG_IMAGE = "图片不是可读的报告，请上传带文字层的PDF或DOCX"
MSG_ZIP = "这是压缩包或不支持的版式文件（如 .zip、.ofd、.pptx、.odt），请上传 PDF、DOCX、XLSX 或网页（HTML）格式的年度报告"
MSG_RTF = "这是 RTF 文件，请在 Word/WPS 中另存为 .docx 或 PDF 后重新上传"
MSG_MHT = "这是网页存档文件（.mht），请另存为 .html、.docx 或 PDF 后重新上传"
MSG_BINARY = "无法识别的文件格式，请上传 PDF、DOCX、XLSX、HTML 或 TXT 格式的年度报告"


def sniff(data: bytes, name: str = "") -> Format:
    """Return the reader for ``data`` (``text``, ``html``, ``docx``, ``xlsx`` or ``pdf``).

    Raises :class:`ParseFailed` for empty files, old binary Office files, images, archives that are
    not DOCX/XLSX, and other binaries.
    """
    lname = name.lower()
    if not data or not data.strip(b" \t\r\n\x00"):
        raise ParseFailed(MSG_EMPTY, f"{len(data)} bytes")
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if b"%PDF-" in data[:65536] and (b"startxref" in data[-4096:] or _looks_binary(data[data.find(b"%PDF-"):])):
        return "pdf"  # junk before the header (a download wrapper): the PDF reader strips it
    if data.startswith(_OLE2):
        raise _ole2_failure(data)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _sniff_zip(data, lname)
    for magic, kind in _IMAGES:
        if data.startswith(magic):
            raise ParseFailed(MSG_IMAGE, f"{kind} image")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        raise ParseFailed(MSG_IMAGE, "WEBP image")
    if data.lstrip().startswith(b"{\\rtf"):
        raise ParseFailed(MSG_RTF, "RTF")
    return _sniff_text(data, lname)


def _ole2_failure(data: bytes) -> ParseFailed:
    """An OLE2 compound file: an old .doc/.xls/.wps, or a password-protected .docx/.xlsx."""
    if "EncryptedPackage".encode("utf-16-le") in data[:65536] or b"E\x00n\x00c\x00r\x00y\x00p\x00t" in data:
        return ParseFailed(MSG_ENCRYPTED_OFFICE, "OLE2 EncryptedPackage")
    return ParseFailed(MSG_OLD_OFFICE, "OLE2 compound file (D0 CF 11 E0)")


def _sniff_zip(data: bytes, lname: str) -> Format:
    """DOCX or XLSX by the package's parts; anything else in a zip is refused, and so is a zip bomb
    (before its directory is even parsed: see :mod:`nianbao.parsing.limits`)."""
    try:
        with open_zip(data) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        if lname.endswith((".docx", ".docm")):
            return "docx"  # let the DOCX reader report the damage in its own words
        if lname.endswith((".xlsx", ".xlsm")):
            return "xlsx"
        raise ParseFailed(MSG_ZIP, f"unreadable zip: {exc}") from None
    has_types = "[Content_Types].xml" in names
    if has_types and any(n.startswith("word/") for n in names):
        return "docx"
    if has_types and any(n.startswith("xl/") for n in names):
        return "xlsx"
    raise ParseFailed(MSG_ZIP, f"zip entries: {', '.join(names[:5])}")


def _sniff_text(data: bytes, lname: str) -> Format:
    """Text or HTML; refuses data that is not text at all."""
    from nianbao.parsing.encoding import decode_text, utf16_without_bom

    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(data) is not None
    if not utf16 and _looks_binary(data):
        raise ParseFailed(MSG_BINARY, "binary data")
    # every marker looked for is ASCII, which all ASCII-compatible encodings (UTF-8, GBK, GB18030)
    # keep as is: latin-1 of the first 64 KB finds them without decoding the whole file
    head = (decode_text(data) if utf16 else data[:65536].decode("latin-1")).lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    low = head[:4096].lower()
    if low.startswith("mime-version:") or ("mime-version:" in low[:1024] and "multipart/related" in low):
        raise ParseFailed(MSG_MHT, "MHTML archive")
    if is_html(head) or (lname.endswith(_HTML_NAMES) and head.startswith("<")):
        return "html"
    return "text"


def is_html(head: str) -> bool:
    """True when decoded text is HTML: a document marker near the start, or markup from the first byte."""
    low = _TAG_COMMENT.sub("", head[:65536]).lstrip().lower()
    if any(m in low[:2048] for m in _HTML_MARKERS):
        return True
    if low.startswith("<?xml") and "<html" in low[:4096]:
        return True
    return low.startswith("<") and any(m in low for m in _HTML_FRAGMENT_MARKERS)


def _looks_binary(data: bytes) -> bool:
    """True when the first 8 KB hold NUL bytes or many control characters (not a text file)."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROLS))
    return controls > len(head) * 0.05


_CONTROLS = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B))
