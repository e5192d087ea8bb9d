"""Fixtures for tests that talk to an S3-compatible server: moto by default, any endpoint by env.

``NIANBAO_TEST_S3_ENDPOINT`` (+ ``NIANBAO_TEST_S3_ACCESS_KEY`` / ``_SECRET_KEY`` / ``_REGION``)
points the whole suite at a real server, e.g. the Ceph RGW that ``infra/ceph/start-rgw.sh``
starts; without it one moto server is started per test session (per xdist worker). Every test
gets its own bucket, so tests never see each other's objects.

Import the fixtures into a conftest or test module: ``from tests.e2e.fixtures import *``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nianbao.config import Settings
from nianbao.intake.store import S3Store

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_inputs"

__all__ = ["S3Endpoint", "s3_endpoint", "settings", "store", "subprocess_env"]


@dataclass(frozen=True)
class S3Endpoint:
    """Where the test S3 server is and how to log in."""

    url: str
    access_key: str
    secret_key: str
    region: str
    real: bool
    """True for an endpoint given by the environment (e.g. Ceph RGW), False for moto."""


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """The S3-compatible endpoint for this session."""
    url = os.environ.get("NIANBAO_TEST_S3_ENDPOINT")
    if url:
        yield S3Endpoint(url, os.environ.get("NIANBAO_TEST_S3_ACCESS_KEY", "test"),
                         os.environ.get("NIANBAO_TEST_S3_SECRET_KEY", "test"),
                         os.environ.get("NIANBAO_TEST_S3_REGION", "us-east-1"), True)
        return
    from nianbao.intake import local_s3

    with local_s3.start("thread") as server:
        yield S3Endpoint(server.endpoint_url, server.access_key, server.secret_key, "us-east-1", False)


def make_settings(endpoint: S3Endpoint, data_dir: Path, bucket: str, **extra: object) -> Settings:
    """Settings for one test: its own data dir and bucket on the session's endpoint."""
    return Settings(
        data_dir=data_dir,
        s3={"endpoint_url": endpoint.url, "bucket": bucket, "region": endpoint.region,
            "access_key_id": endpoint.access_key, "secret_access_key": endpoint.secret_key},
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def settings(s3_endpoint: S3Endpoint, tmp_path: Path) -> Iterator[Settings]:
    """Settings with a fresh bucket (created; removed afterwards on a shared server) and data dir."""
    s = make_settings(s3_endpoint, tmp_path / "data", f"nb-test-{uuid.uuid4().hex[:12]}", chunk_size=4)
    store = S3Store.from_settings(s)
    store.ensure_bucket()
    yield s
    if s3_endpoint.real:  # moto forgets everything at the end of the session anyway
        for ref in list(store.list("")):
            store.client.delete_object(Bucket=store.bucket, Key=ref.key)
        store.client.delete_bucket(Bucket=store.bucket)


@pytest.fixture
def store(settings: Settings) -> S3Store:
    """The test's bucket."""
    return S3Store.from_settings(settings)


def subprocess_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a ``python -m nianbao …`` child process using the same bucket and warehouse."""
    s3 = settings.s3
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": str(Path(settings.data_dir) / "prefect"),
        "NIANBAO_DATA_DIR": str(settings.data_dir),
        "NIANBAO_CHUNK_SIZE": str(settings.chunk_size),
        "NIANBAO_S3__ENDPOINT_URL": str(settings.endpoint_url),
        "NIANBAO_S3__BUCKET": s3.bucket,
        "NIANBAO_S3__REGION": s3.region,
        "NIANBAO_S3__ACCESS_KEY_ID": s3.access_key_id.get_secret_value() if s3.access_key_id else "",
        "NIANBAO_S3__SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value() if s3.secret_access_key else "",
    })
    env.update(extra)
    return env


PYTHON = sys.executable
