"""Object keys of the shared bucket: what an upload's key says about who sent it, and for which year.

Layout (prefixes configurable)::

    inbox/<agency_id>/<year>/<file>                   an upload
    outbox/<agency_id>/<year>/<submission_id>.json    the notice answering it (and a .md beside it)
    registry/agencies.csv                             the optional agency registry

The key is the uploader's identity, so it is validated strictly before anything trusts it: no
``..`` or ``.`` segments, no absolute or backslash paths, no control characters, agency ids from
a small safe alphabet, a plausible year, a plain file name. A key that fails is *not* processed
but answered (the agency learns the layout), so :func:`parse_key` returns the reason instead of
raising.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

AGENCY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
YEAR_MIN, YEAR_MAX = 2000, 2100
MAX_FILENAME_BYTES = 200
MAX_KEY_BYTES = 1024
REJECTED_SEGMENT = "_rejected"
"""Outbox segment for answers to keys whose agency id cannot be trusted."""


@dataclass(frozen=True, slots=True)
class UploadKey:
    """A key that follows the layout."""

    key: str
    agency_id: str
    year: int
    filename: str


@dataclass(frozen=True, slots=True)
class InvalidKey:
    """A key outside the layout, with what can still be salvaged to route the answer."""

    key: str
    reason: str
    """Plain Chinese for the agency: what is wrong and what the key should look like."""
    agency_id: str | None = None
    year: int | None = None


def valid_agency_id(agency_id: str) -> bool:
    """True for ids of the safe alphabet ``[a-z0-9][a-z0-9_-]{0,63}``."""
    return AGENCY_ID.fullmatch(agency_id) is not None


def valid_year(text: str) -> int | None:
    """The year if ``text`` is four ASCII digits in 2000..2100, else ``None``."""
    if re.fullmatch(r"[0-9]{4}", text) and YEAR_MIN <= int(text) <= YEAR_MAX:
        return int(text)
    return None


def filename_problem(name: str) -> str | None:
    """Why ``name`` is not acceptable as an uploaded file name, or ``None`` if it is."""
    if not name or name in (".", ".."):
        return "文件名为空"
    if name.startswith("."):
        return "文件名不能以“.”开头（隐藏文件）"
    if len(name.encode("utf-8")) > MAX_FILENAME_BYTES:
        return f"文件名过长（上限 {MAX_FILENAME_BYTES} 字节）"
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        return "文件名含有控制字符"
    if name != name.strip():
        return "文件名首尾不能有空格"
    return None


def layout_hint(inbox: str = "inbox/") -> str:
    """The layout, for messages."""
    return f"{inbox}<机构代码>/<年度>/<文件名>（机构代码为小写字母、数字、-、_，年度为四位数字）"


def parse_key(key: str, inbox: str = "inbox/") -> UploadKey | InvalidKey:
    """Validate an object key against ``<inbox><agency_id>/<year>/<file>``."""
    hint = layout_hint(inbox)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return InvalidKey(key, f"对象键过长，应为 {hint}")
    if key.startswith("/") or "\\" in key or any(unicodedata.category(c) == "Cc" for c in key):
        return InvalidKey(key, f"对象键含有绝对路径、反斜杠或控制字符，应为 {hint}")
    if not key.startswith(inbox):
        return InvalidKey(key, f"文件不在收件目录中，应为 {hint}")
    parts = key[len(inbox):].split("/")
    # the first segment is who uploaded (write access is granted per inbox/<id>/ prefix), so a key
    # that is wrong further down is still answered in that agency's own outbox
    agency = parts[0] if parts and valid_agency_id(parts[0]) else None
    if any(p in ("..", ".") for p in parts):
        return InvalidKey(key, f"对象键不能含有“..”或“.”路径段，应为 {hint}", agency)
    year = valid_year(parts[1]) if len(parts) > 1 else None
    if agency is None:
        return InvalidKey(key, f"机构代码“{parts[0] if parts else ''}”不合规，应为 {hint}")
    if year is None:
        got = parts[1] if len(parts) > 2 else ""
        why = f"年度“{got}”无效（应为 {YEAR_MIN}–{YEAR_MAX} 的四位数字）" if got else "缺少年度目录"
        return InvalidKey(key, f"{why}，应为 {hint}", agency)
    if len(parts) != 3:
        return InvalidKey(key, f"文件应直接放在年度目录下，不能有子目录，应为 {hint}", agency, year)
    problem = filename_problem(parts[2])
    if problem:
        return InvalidKey(key, f"{problem}，应为 {hint}", agency, year)
    return UploadKey(key, agency, year, parts[2])


def is_directory_marker(key: str, size: int) -> bool:
    """Zero-byte ``…/`` objects that consoles create for "folders": not uploads, never answered."""
    return key.endswith("/") and size == 0


def upload_key(agency_id: str, year: int, filename: str, inbox: str = "inbox/") -> str:
    """The inbox key for an upload (what ``nianbao upload`` writes); raises ValueError if invalid."""
    key = f"{inbox}{agency_id}/{year}/{filename}"
    parsed = parse_key(key, inbox)
    if isinstance(parsed, InvalidKey):
        raise ValueError(parsed.reason)
    return key


def submission_id(key: str, version: str, sha256: str) -> str:
    """Deterministic id of one upload, so a re-delivery maps to the same id and the same notice key."""
    digest = hashlib.sha256(f"{key}\0{version}\0{sha256}".encode()).hexdigest()
    return f"s-{digest[:20]}"


def notice_keys(
    submission: str, agency_id: str | None, year: int | None, outbox: str = "outbox/"
) -> tuple[str, str]:
    """``(json_key, markdown_key)`` of the notice answering a submission.

    Answers to keys outside the layout go under the agency's own prefix when the agency id was
    readable, else under ``outbox/_rejected/``.
    """
    if agency_id is None:
        base = f"{outbox}{REJECTED_SEGMENT}/{submission}"
    else:
        base = f"{outbox}{agency_id}/{year if year is not None else 'unknown'}/{submission}"
    return f"{base}.json", f"{base}.md"


def metadata_conflict(meta: dict[str, str], agency_id: str, year: int) -> str | None:
    """Why object metadata (``x-amz-meta-agency``/``-year``) contradicts the key, if it does."""
    agency, declared = meta.get("agency"), meta.get("year")
    if agency and agency.strip() != agency_id:
        return f"对象元数据 x-amz-meta-agency（{agency}）与路径中的机构代码（{agency_id}）不一致"
    if declared and declared.strip() != str(year):
        return f"对象元数据 x-amz-meta-year（{declared}）与路径中的年度（{year}）不一致"
    return None
