"""The throw-away local S3 server used by the demo, the tests and the benchmark."""

from __future__ import annotations

import os
import urllib.request

import pytest

from nianbao.config import Settings
from nianbao.intake import local_s3
from nianbao.intake.store import S3Store


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_start_serves_s3_and_stop_shuts_it_down(mode: local_s3.Mode) -> None:
    server = local_s3.start(mode)
    try:
        s = Settings(s3={"endpoint_url": server.endpoint_url, "bucket": "nb-local",
                         "access_key_id": server.access_key, "secret_access_key": server.secret_key})
        store = S3Store.from_settings(s)
        store.ensure_bucket()
        store.ensure_bucket()  # idempotent
        store.put("inbox/a/2023/x.txt", b"x")
        assert [r.key for r in store.list("inbox/")] == ["inbox/a/2023/x.txt"]
    finally:
        server.stop()
    if mode == "process":
        assert server.pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(server.pid, 0)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{server.endpoint_url}/moto-api/", timeout=1)  # noqa: S310
