"""The optional agency registry: who an agency id is (name, level, region, e-mail).

``agencies.csv`` (header ``id,name,level,region,email``; UTF-8, with or without BOM, or GB18030
as saved by Excel on Chinese Windows) lives in the bucket at ``registry/agencies.csv`` or in a
local file. Without it the pipeline still runs; the rules that need a registered name
(``AGENCY-MISMATCH``) or level (deadlines) simply do not fire, and notices go only to the bucket.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao.errors import ConfigError
from nianbao.intake.keys import valid_agency_id

if TYPE_CHECKING:
    from nianbao.config import Settings
    from nianbao.intake.store import ObjectStore

COLUMNS = ("id", "name", "level", "region", "email")


@dataclass(frozen=True, slots=True)
class Agency:
    """One registered agency."""

    id: str
    name: str | None = None
    level: str | None = None
    region: str | None = None
    email: str | None = None


class Registry(dict[str, Agency]):
    """Agencies by id; ``source`` says where they were read (for logs and the demo summary)."""

    source: str = "none"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def parse_registry(data: bytes, source: str = "<bytes>") -> Registry:
    """Parse ``agencies.csv``; raise ConfigError naming the line of a bad row."""
    reader = csv.DictReader(io.StringIO(_decode(data)))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "id" not in header:
        raise ConfigError(f"{source}: agency registry needs a header with at least 'id' (expected {','.join(COLUMNS)})")
    reader.fieldnames = header
    reg = Registry()
    reg.source = source
    for row in reader:
        values = {k: (v or "").strip() or None for k, v in row.items() if k in COLUMNS}
        agency_id = values.get("id")
        if agency_id is None:
            continue
        if not valid_agency_id(agency_id):
            raise ConfigError(f"{source}:{reader.line_num}: agency id {agency_id!r} is not [a-z0-9][a-z0-9_-]*")
        reg[agency_id] = Agency(agency_id, values.get("name"), values.get("level"), values.get("region"),
                                values.get("email"))
    return reg


def load_registry(settings: Settings, store: ObjectStore | None) -> Registry:
    """The registry from ``settings.registry_path``, else from the bucket, else an empty one."""
    if settings.registry_path is not None:
        path = Path(settings.registry_path)
        try:
            return parse_registry(path.read_bytes(), str(path))
        except OSError as exc:
            raise ConfigError(f"cannot read agency registry {path}: {exc.strerror or exc}") from exc
    if store is not None and store.head(settings.s3.registry_key) is not None:
        return parse_registry(store.get_bytes(settings.s3.registry_key), settings.s3.registry_key)
    return Registry()


def registry_csv(agencies: list[Agency]) -> bytes:
    """Serialise agencies as ``agencies.csv`` (for the demo and tests)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for a in agencies:
        w.writerow([a.id, a.name or "", a.level or "", a.region or "", a.email or ""])
    return out.getvalue().encode("utf-8")
