"""Files that cannot be read, and what to tell the uploader.

No text layer (a scan), a password, a broken file, or text without a Unicode mapping (copying gives
gibberish) → :class:`~nianbao.errors.ParseFailed` saying what went wrong and what to upload instead:
the message is for the person who uploaded the file.
"""

from __future__ import annotations

from typing import Any

from nianbao.errors import ParseFailed

MSG_NO_TEXT = "PDF 没有文字层（可能是扫描件），无法读取表格数据；请上传由 Word/WPS 直接导出的 PDF 或 DOCX 文件"
MSG_ENCRYPTED = "PDF 文件已加密（设置了打开密码），无法读取；请上传未加密的 PDF 副本，或由 Word/WPS 直接导出的 PDF/DOCX 文件"
MSG_CORRUPT = "PDF 文件已损坏或不完整，无法打开；请重新导出 PDF 后上传，或改为上传 DOCX 文件"
MSG_GARBLED = "PDF 中的文字无法正确提取（字体缺少 Unicode 映射，复制出来是乱码）；请上传由 Word/WPS 直接导出的 PDF 或 DOCX 文件"

MIN_TEXT_CHARS = 20
"""Fewer visible characters than this in the whole file: no text layer."""
_ERR_PASSWORD = 4
"""PDFium's ``FPDF_ERR_PASSWORD``: the file needs a password to open."""


def open_pdf(data: bytes) -> Any:
    """The PDFium document; a password or a file PDFium cannot open is refused."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _ERR_PASSWORD:
            raise ParseFailed(MSG_ENCRYPTED, str(exc)) from None
        raise ParseFailed(MSG_CORRUPT, str(exc)) from None
    except bad_file_errors() as exc:
        raise ParseFailed(MSG_CORRUPT, f"{type(exc).__name__}: {exc}") from None


def bad_file_errors() -> tuple[type[BaseException], ...]:
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
