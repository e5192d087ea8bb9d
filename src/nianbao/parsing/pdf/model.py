"""The page-geometry records passed between the stages of the PDF reader.

Coordinates are in points, top-down (``top`` < ``bottom``), as pdfplumber uses them, so PDFium's
bottom-up boxes are flipped once, where they are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Char:
    """One character and its box: PDFium's loose (font-height) box, or pdfminer's on fallback pages."""

    ch: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def cy(self) -> float:
        """Vertical centre: decides the line and the table cell a character belongs to."""
        return (self.top + self.bottom) / 2


@dataclass(slots=True)
class Line:
    """A text line: its characters joined (a space where the gap is wide) and its box."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass(slots=True)
class TCell:
    """A table cell in page geometry; ``row``/``rowspan`` index the table's row boundaries."""

    x0: float
    x1: float
    row: int
    rowspan: int
    top: float
    bottom: float
    chars: list[Char] = field(default_factory=list)
    text: str = ""
    text_top: float | None = None
    text_bottom: float | None = None


@dataclass
class Table:
    """The part of a table on one page: its cells, row count, each row's page and its outer borders."""

    cells: list[TCell]
    nrows: int
    row_pages: list[int]
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass
class Page:
    """One page's running text lines and tables."""

    number: int
    height: float
    lines: list[Line]
    tables: list[Table]
