"""File bytes → canonical report: sniff the type, read it into a Document, read the Document.

Each format module is imported only when a file of its format arrives, so ``check`` on text files
never pays for lxml, python-docx, openpyxl or pdfplumber.
"""

from __future__ import annotations

from importlib import import_module

from nianbao.errors import ParseFailed
from nianbao.model.report import Report

__all__ = ["ParseFailed", "parse", "read_document"]

_READERS = {
    "text": "nianbao.parsing.text",
    "html": "nianbao.parsing.html",
    "docx": "nianbao.parsing.docx",
    "xlsx": "nianbao.parsing.xlsx",
    "pdf": "nianbao.parsing.pdf",
}


def read_document(data: bytes, name: str):  # type: ignore[no-untyped-def]
    """The file's Document (its text and tables in reading order).

    The size of the file is the caller's limit (``check_file``, ``limits.max_upload_mb``), checked
    before the bytes are read; what a file may cost to read is bounded here, by
    :mod:`nianbao.parsing.limits`, whatever its size.
    """
    from nianbao.parsing.detect import sniff
    from nianbao.parsing.limits import check_document

    fmt = sniff(data, name)
    if fmt == "pdf" and not data.startswith(b"%PDF-"):
        data = data[data.find(b"%PDF-"):]  # offsets in a PDF count from its header, not from junk before it
    document = import_module(_READERS[fmt]).read(data)
    check_document(document.rows)  # whatever the format: the label readers pay per row and character
    return document


def preload_readers() -> None:
    """Import every reader and the label reading now (a parsing worker does, so that no file's
    time limit pays for an import or for loading the cell catalog)."""
    from nianbao.model.cells import catalog

    for module in (*_READERS.values(), "nianbao.reading"):
        import_module(module)
    catalog()


def parse(data: bytes, name: str) -> Report:
    """Parse one file into a report. Raises ParseFailed when it cannot be read as a report."""
    from nianbao.reading import build_report

    return build_report(read_document(data, name), name)
