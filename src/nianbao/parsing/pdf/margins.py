"""Page furniture: page numbers and running headers/footers are not part of the report's text.

Page numbers in the top/bottom margin (``- 4 -``, ``— 4 —``, ``第4页``, ``4/6``) and margin lines
repeated on most pages are dropped: they would otherwise break the running text at every page.
"""

from __future__ import annotations

import re
from collections import Counter

from nianbao.parsing.pdf.model import Line, Page

MARGIN = 0.09
"""Top and bottom share of the page where page numbers and running headers live."""

_PAGE_NUMBER = re.compile(
    r"^[\s\-—–―_·•]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/／,，]?\s*共?\s*\d{1,4}\s*页?)?[\s\-—–―_·•]*$"
    r"|^\s*page\s*\d+(?:\s*of\s*\d+)?\s*$",
    re.IGNORECASE,
)


def drop_margins(pages: list[Page]) -> None:
    """Drop page numbers and lines repeated in the top/bottom margin of most pages."""

    def in_margin(line: Line, page: Page) -> bool:
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
