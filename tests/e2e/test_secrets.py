"""Nothing secret leaves the process: not on the console, not in the warehouse, not in the bucket."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nianbao.config import Settings
from nianbao.intake.store import S3Store
from tests.e2e.fixtures import PYTHON, ROOT, SAMPLES, S3Endpoint, subprocess_env

pytestmark = pytest.mark.e2e
SECRET = "nb-Secret-5f0c2a9e7d"


def test_an_ingest_never_prints_or_stores_its_secret(s3_endpoint: S3Endpoint, settings: Settings,
                                                     store: S3Store) -> None:
    store.put("inbox/cangtai/2023/r.txt", (SAMPLES / "cangtai-2023.txt").read_bytes())
    secrets = [SECRET]
    extra = {"NIANBAO_SMTP__PASSWORD": SECRET}
    if s3_endpoint.real:  # a real server checks the key: look for the real one instead
        assert settings.s3.secret_access_key is not None
        secrets.append(settings.s3.secret_access_key.get_secret_value())
    else:
        extra["NIANBAO_S3__SECRET_ACCESS_KEY"] = SECRET
    env = subprocess_env(settings, **extra)
    run = subprocess.run([PYTHON, "-m", "nianbao", "ingest", "--no-prefect"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    # an error path too: a bucket that does not exist
    bad = subprocess.run([PYTHON, "-m", "nianbao", "ingest", "--no-prefect"], cwd=ROOT,
                         env={**env, "NIANBAO_S3__BUCKET": "no-such-bucket-xyz"}, capture_output=True, text=True,
                         timeout=180)
    assert bad.returncode != 0
    for secret in secrets:
        for out in (run.stdout, run.stderr, bad.stdout, bad.stderr):
            assert secret not in out
        stored = [p for p in Path(settings.data_dir).rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
        assert not stored
        assert not [r.key for r in store.list("") if secret.encode() in store.get_bytes(r.key)]
