"""Label normalisation: how two renderings of the same printed label become equal.

Full/half-width punctuation (NFKC), spaces inside labels (``商业 企业``), curly vs straight
quotes and markdown decoration all disappear, so label matching can use plain substrings.
"""

from __future__ import annotations

import re
import unicodedata

_DROP = re.compile(r"[\s\u00a0\u3000#*`>]+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "〔": "[", "〕": "]"})


def norm(text: str) -> str:
    """The comparison form of a label."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES))


def display(text: str) -> str:
    """A label as shown in messages: whitespace runs removed between CJK, trimmed."""
    t = re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u3000", " ")).strip()
    return re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", t)
