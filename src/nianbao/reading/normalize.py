"""Label normalisation: how two renderings of the same printed label become equal.

Full/half-width punctuation (NFKC), spaces inside labels (``商业 企业``), curly vs straight
quotes and markdown decoration all disappear, so label matching can use plain substrings.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DROP = re.compile(r"[\s\u00a0\u3000#*`>]+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "〔": "[", "〕": "]"})


# labels of the national format recur in every report: caching their normal forms pays
@lru_cache(maxsize=8192)
def norm(text: str) -> str:
    """The comparison form of a label."""
    if text.isascii():
        return _DROP.sub("", text)
    return _DROP.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES))


_SPACES = re.compile(r"[\s\u00a0\u3000]+")
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")


@lru_cache(maxsize=4096)
def display(text: str) -> str:
    """A label as shown in messages: whitespace runs removed between CJK, trimmed."""
    return _CJK_GAP.sub("", _SPACES.sub(" ", text).strip())
