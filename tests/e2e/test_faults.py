"""S3 faults between the pipeline and the bucket: retried when they heal, answered when they do not,
and never a reason to lose or repeat an upload.

Faults come from :class:`tests.helpers.fault_proxy.FaultProxy` between boto3 and the test's S3
server: 5xx and throttling answers, connection resets, read timeouts, bodies cut off mid-way.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from nianbao import pipeline
from nianbao.config import Settings
from nianbao.errors import StoreUnreachable
from nianbao.intake.store import S3Store
from nianbao.sandbox import Sandbox
from nianbao.warehouse import Warehouse
from tests.e2e.fixtures import PYTHON, ROOT, SAMPLES, subprocess_env
from tests.helpers.fault_proxy import FaultProxy, Rule

pytestmark = pytest.mark.e2e
GOOD = (SAMPLES / "qingshan-eco-2023-clean.txt").read_bytes()


@pytest.fixture
def proxy(settings: Settings) -> Iterator[FaultProxy]:
    with FaultProxy(str(settings.endpoint_url), seed=7) as p:
        yield p


def via(proxy: FaultProxy, settings: Settings, **s3: Any) -> Settings:
    """The test's settings with the pipeline talking to the bucket through the proxy."""
    limits = s3.pop("limits", {})
    return settings.model_copy(update={
        "s3": settings.s3.model_copy(update={"endpoint_url": proxy.url, **s3}),
        "limits": settings.limits.model_copy(update=limits),
    })


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with Warehouse.from_settings(settings).read() as con:
        return con.execute(sql).fetchall()


def upload(store: S3Store, n: int, prefix: str = "g") -> list[str]:
    keys = [f"inbox/{prefix}{i:02d}/2023/r.txt" for i in range(n)]
    for i, key in enumerate(keys):
        store.put(key, GOOD + f"\n{i}\n".encode())
    return keys


def test_errors_that_heal_within_botocore_retries_cost_nothing(settings: Settings, store: S3Store,
                                                              proxy: FaultProxy) -> None:
    keys = upload(store, 6)
    rules = [
        proxy.add_rule(Rule(method="GET", key=keys[0], status=503, code="SlowDown", times=2)),
        proxy.add_rule(Rule(method="GET", key=keys[1], status=500, times=1)),
        proxy.add_rule(Rule(method="GET", key=keys[2], reset="before", times=1)),
        proxy.add_rule(Rule(method="GET", key=keys[3], truncate=0.3, times=1)),
        proxy.add_rule(Rule(method="PUT", key=r"outbox/.*\.json", status=503, code="SlowDown", times=2)),
        proxy.add_rule(Rule(method="GET", query="list-type=2", status=500, times=1)),
    ]
    summary = pipeline.run_ingest(via(proxy, settings, max_attempts=4))
    assert [proxy.fired(r) for r in rules] == [2, 1, 1, 1, 2, 1]
    assert (summary["new"], summary["notices"], summary["retry_later"], summary["notices_failed"]) == (6, 6, 0, 0)
    assert rows(settings, "SELECT count(*), count(DISTINCT key) FROM submissions WHERE status = 'accepted'") \
        == [(6, 6)]
    assert len([r for r in store.list("outbox/") if r.key.endswith(".json")]) == 6


def test_an_upload_that_cannot_be_downloaded_is_answered_after_n_runs_and_the_rest_go_on(
        settings: Settings, store: S3Store, proxy: FaultProxy) -> None:
    keys = upload(store, 4)
    bad = keys[1]
    proxy.add_rule(Rule(method="GET", key=bad, status=500))  # every time
    s = via(proxy, settings, max_attempts=2, limits={"upload_attempts": 3})
    for run in (1, 2):
        summary = pipeline.run_ingest(s)
        assert summary["retry_later"] == 1 and summary["new"] == (3 if run == 1 else 0)
        assert rows(settings, f"SELECT count(*) FROM submissions WHERE key = '{bad}'") == [(0,)]
        assert rows(settings, "SELECT item, attempts FROM v_pending_work") == [(bad, run)]
    summary = pipeline.run_ingest(s)
    assert (summary["retry_later"], summary["new"], summary["notices"]) == (0, 1, 1)
    [(status, sha, size)] = rows(settings, f"SELECT status, sha256, size FROM submissions WHERE key = '{bad}'")
    assert (status, sha, size) == ("failed", None, len(GOOD) + 3)
    [(json_key,)] = rows(settings, "SELECT n.json_key FROM notices n JOIN submissions s USING (submission_id) "
                                   f"WHERE s.key = '{bad}'")
    assert json_key.startswith("outbox/g01/2023/")
    notice = json.loads(store.get_bytes(json_key))
    assert notice["kind"] == "failure" and notice["sha256"] is None
    assert "连续 3 次读取该文件均失败" in notice["findings"][0]["message"]
    assert pipeline.run_ingest(s)["uploads"] == 0  # answered once, never again
    assert rows(settings, "SELECT count(*) FROM submissions") == [(4,)]
    assert rows(settings, "SELECT count(*) FROM v_pending_work") == [(0,)]


def test_notice_writes_that_fail_stay_pending_and_the_next_run_writes_them(settings: Settings, store: S3Store,
                                                                          proxy: FaultProxy) -> None:
    upload(store, 3)
    down = proxy.add_rule(Rule(method="PUT", key=r"outbox/.*", status=503, code="ServiceUnavailable"))
    s = via(proxy, settings, max_attempts=2)
    summary = pipeline.run_ingest(s)
    assert (summary["new"], summary["notices"], summary["notices_failed"]) == (3, 0, 3)
    # tried by the chunk and again by the end-of-run sweep
    assert rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NULL AND delivery_attempts = 2 "
                          "AND delivery_error LIKE '%ServiceUnavailable%'") == [(3,)]
    assert not list(store.list("outbox/"))
    assert proxy.fired(down) == 3 * 2 * 3  # 3 notices x 2 deliveries x (1 request + 2 botocore retries)
    proxy.clear()
    summary = pipeline.run_ingest(s)
    assert (summary["uploads"], summary["notices"]) == (0, 3)
    assert rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NOT NULL") == [(3,)]
    assert len([r for r in store.list("outbox/") if r.key.endswith(".json")]) == 3


def test_a_notice_put_whose_answer_is_lost_is_not_written_twice(settings: Settings, store: S3Store,
                                                               proxy: FaultProxy) -> None:
    upload(store, 2)
    # the PUT reaches the bucket but the answer is lost: botocore retries a create-only write
    proxy.add_rule(Rule(method="PUT", key=r"outbox/.*\.json", reset="forwarded", times=2))
    summary = pipeline.run_ingest(via(proxy, settings, max_attempts=4))
    assert summary["new"] == 2 and summary["notices"] + summary["notices_failed"] == 2
    pipeline.run_ingest(via(proxy, settings, max_attempts=4))
    assert rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NOT NULL") == [(2,)]
    assert len([r for r in store.list("outbox/") if r.key.endswith(".json")]) == 2


def test_an_upload_over_the_size_limit_is_answered_without_being_downloaded(settings: Settings, store: S3Store,
                                                                           proxy: FaultProxy) -> None:
    store.put("inbox/small/2023/r.txt", GOOD)
    big = "inbox/big/2023/r.pdf"
    store.put(big, b"%PDF-1.7\n" + bytes(60_000))
    s = via(proxy, settings, limits={"max_upload_mb": 0.05})
    summary = pipeline.run_ingest(s)
    assert summary["new"] == 2
    assert proxy.stats().by_key.get(big, {}).get("requests", 0) == 0  # listed, never fetched
    got = dict(((k, (st, sha)) for k, st, sha in rows(settings, "SELECT key, status, sha256 FROM submissions")))
    assert got["inbox/small/2023/r.txt"][0] == "accepted"
    assert got[big] == ("failed", None)
    [(json_key,)] = rows(settings, f"SELECT n.json_key FROM notices n JOIN uploads u USING (submission_id) "
                                   f"WHERE u.key = '{big}'")
    notice = json.loads(store.get_bytes(json_key))
    assert "文件过大" in notice["findings"][0]["message"] and "上限 0.05 MB" in notice["findings"][0]["message"]


def test_a_file_that_hangs_its_reader_is_answered_and_the_batch_goes_on(
        settings: Settings, store: S3Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import misbehave

    monkeypatch.setattr(pipeline, "Sandbox", partial(Sandbox, target=misbehave.TARGET))
    keys = upload(store, 3)
    store.put("inbox/hang/2023/r.txt", misbehave.HANG + GOOD)
    store.put("inbox/crash/2023/r.txt", misbehave.SEGV + GOOD)
    s = settings.model_copy(update={"limits": settings.limits.model_copy(update={"parse_timeout": 2})})
    summary = pipeline.run_ingest(s)
    assert summary["new"] == 5
    got = dict(rows(settings, "SELECT key, status FROM submissions"))
    assert got == {**{k: "accepted" for k in keys}, "inbox/hang/2023/r.txt": "failed",
                   "inbox/crash/2023/r.txt": "failed"}
    messages = dict(rows(settings, "SELECT u.key, f.message FROM findings f JOIN uploads u USING (submission_id) "
                                   "WHERE u.status = 'failed'"))
    assert "超时（超过 2 秒" in messages["inbox/hang/2023/r.txt"]
    assert "解析程序异常退出" in messages["inbox/crash/2023/r.txt"]
    assert len([r for r in store.list("outbox/") if r.key.endswith(".json")]) == 5


def test_a_60_mb_upload_is_refused_at_the_default_limit_without_a_download(settings: Settings, store: S3Store,
                                                                          proxy: FaultProxy) -> None:
    big = "inbox/big/2023/scan.pdf"
    store.put(big, b"%PDF-1.7\n" + bytes(60 * 2**20))
    summary = pipeline.run_ingest(via(proxy, settings))
    assert summary["new"] == 1
    assert proxy.stats().by_key.get(big, {}).get("requests", 0) == 0
    [(status, message)] = rows(settings, "SELECT u.status, f.message FROM uploads u JOIN findings f USING (submission_id)")
    assert status == "failed" and "文件过大（60 MB，上限 50 MB）" in message


def test_a_store_that_goes_away_mid_run_stops_the_run_and_blames_no_upload(settings: Settings, store: S3Store,
                                                                          proxy: FaultProxy) -> None:
    upload(store, 12)  # three chunks of 4
    answered: list[str] = []

    def on_item(sub: Any) -> None:
        answered.append(sub.key)
        if len(answered) == 4:  # the first chunk is downloaded and checked: now nothing answers
            proxy.close()

    with pytest.raises(StoreUnreachable, match="cannot reach the S3 endpoint"):
        pipeline.run_ingest(via(proxy, settings, max_attempts=1, connect_timeout=1), on_item=on_item)
    # what was done before the store went away stands; nothing else was loaded, and no upload was
    # counted as a failed download (it was the store's fault, not theirs)
    assert rows(settings, "SELECT count(*) FROM submissions") == [(4,)]
    assert rows(settings, "SELECT count(*) FROM attempts") == [(0,)]
    assert rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NULL") == [(4,)]

    summary = pipeline.run_ingest(settings)  # the store is back
    assert (summary["new"], summary["retry_later"]) == (8, 0)
    assert rows(settings, "SELECT count(*), count(DISTINCT key) FROM submissions WHERE status = 'accepted'") \
        == [(12, 12)]
    assert rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NOT NULL") == [(12,)]
    assert len([r for r in store.list("outbox/") if r.key.endswith(".json")]) == 12


def test_the_watch_loop_outlives_a_store_that_fails_its_polls(settings: Settings, store: S3Store,
                                                             proxy: FaultProxy) -> None:
    failing = proxy.add_rule(Rule(method="GET", query="list-type=2", status=503, code="SlowDown", times=6))
    env = subprocess_env(via(proxy, settings), NIANBAO_S3__MAX_ATTEMPTS="1", COLUMNS="200")
    loop = subprocess.Popen([PYTHON, "-m", "nianbao", "watch", "--no-prefect", "--interval", "0.5"], cwd=ROOT,
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        upload(store, 2)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and loop.poll() is None:
            if rows(settings, "SELECT count(*) FROM notices WHERE sent_at IS NOT NULL")[0][0] == 2:
                break
            time.sleep(0.3)
        assert loop.poll() is None, loop.communicate()[1][-2000:]  # still polling after three failed polls (two requests each)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(loop.pid, signal.SIGINT)
        out, err = loop.communicate(timeout=60)
    assert proxy.fired(failing) == 6
    assert out.count("poll failed, trying again") >= 1 and "SlowDown" in out, out
    assert rows(settings, "SELECT count(*), count(DISTINCT key) FROM submissions") == [(2, 2)]
