"""Warehouse fixtures: checked uploads built from real sample files, no S3 needed.

:class:`MemoryStore` is an in-process stand-in for the bucket so these tests exercise the
warehouse alone; everything that talks to a real S3 API is in ``tests/intake`` and ``tests/e2e``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nianbao.config import Settings
from nianbao.intake.registry import Registry
from nianbao.intake.store import ObjectGone, ObjectRef, StoredObject
from nianbao.pipeline import ProcessedUpload, process_one
from nianbao.warehouse import Warehouse

SAMPLES = Path(__file__).resolve().parents[2] / "sample_inputs"
T0 = datetime(2024, 1, 10, 8, 0, 0, tzinfo=UTC)


class MemoryStore:
    """The ObjectStore protocol over a dict (last-modified times are set explicitly)."""

    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream",
            if_none_match: bool = False, metadata: dict[str, str] | None = None,
            when: datetime = T0) -> bool:
        if if_none_match and key in self.objects:
            return False
        self.objects[key] = StoredObject(key, data, hashlib.md5(data).hexdigest(), when, None, metadata or {})
        return True

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectRef]:
        for key in sorted(self.objects):
            if key.startswith(prefix) and (start_after is None or key > start_after):
                o = self.objects[key]
                yield ObjectRef(key, o.etag, len(o.data), o.last_modified)

    def head(self, key: str) -> ObjectRef | None:
        o = self.objects.get(key)
        return None if o is None else ObjectRef(key, o.etag, len(o.data), o.last_modified)

    def get(self, key: str) -> StoredObject:
        if key not in self.objects:
            raise ObjectGone(key)
        return self.objects[key]

    def get_bytes(self, key: str) -> bytes:
        return self.get(key).data

    def metadata(self, key: str) -> dict[str, str] | None:
        o = self.objects.get(key)
        return None if o is None else dict(o.metadata)


def sample(name: str) -> bytes:
    """The bytes of ``sample_inputs/<name>``."""
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    """Settings whose warehouse lives in the test's tmp dir."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def warehouse(local_settings: Settings) -> Warehouse:
    """An empty warehouse (created on first use)."""
    return Warehouse.from_settings(local_settings)


@pytest.fixture
def upload(local_settings: Settings):  # type: ignore[no-untyped-def]
    """``upload(key, data, minutes=0) -> ProcessedUpload``: put into a memory bucket and check it."""
    store = MemoryStore()

    def make(key: str, data: bytes, minutes: float = 0, registry: Registry | None = None) -> ProcessedUpload:
        store.put(key, data, when=T0 + timedelta(minutes=minutes))
        ref = store.head(key)
        assert ref is not None
        return process_one(store, ref, local_settings, registry or Registry())

    return make
