"""The fault proxy against a real moto server and a real boto3 client (through :class:`S3Store`).

Each fault is provoked and the test records what botocore raises for it and how
:func:`nianbao.intake.store.translate` classifies it. botocore's ``retries.max_attempts``
(``settings.s3.max_attempts``, at least 1) counts *retries*: the fewest requests per call is
:data:`FEWEST`, so "no retries" below means a rule that fires on every attempt.
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from nianbao.config import Settings
from nianbao.errors import ConfigError, StoreUnreachable, TransientError
from nianbao.intake import local_s3
from nianbao.intake.store import S3Store, translate
from tests.helpers.fault_proxy import FaultProxy, Rule

ROOT = Path(__file__).resolve().parents[2]
KEY = "inbox/甲局/2023/年报 1.pdf"  # non-ASCII and a space: the proxy matches the decoded key
FEWEST = 2
"""Requests per call with ``max_attempts=1``: the first and one retry."""


@pytest.fixture(scope="module", autouse=True)
def _shared_model_loader() -> Iterator[None]:
    """Let every client S3Store.from_settings builds share one botocore data loader.

    Each new boto3 Session re-reads and parses the S3 service model: 150 ms per client on this
    machine, 23 ms with the loader shared. The clients are still built by from_settings with its
    config; only the parsed JSON is reused.
    """
    import boto3.session
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    original = boto3.session.Session

    def session(*args: Any, **kwargs: Any) -> boto3.session.Session:
        if kwargs.get("botocore_session") is None:
            core = botocore.session.Session()
            core.register_component("data_loader", loader)
            kwargs["botocore_session"] = core
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(boto3.session, "Session", session)
        yield


@pytest.fixture(scope="module")
def s3() -> Iterator[local_s3.LocalS3]:
    with local_s3.start("thread") as server:
        yield server


@pytest.fixture
def proxy(s3: local_s3.LocalS3) -> Iterator[FaultProxy]:
    with FaultProxy(s3.endpoint_url, seed=1) as p:
        yield p


@pytest.fixture(scope="module")
def direct_client(s3: local_s3.LocalS3, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One boto3 client straight to moto for the whole module."""
    settings = _settings(s3.endpoint_url, tmp_path_factory.mktemp("direct"), "unused")
    return S3Store.from_settings(settings).client


@pytest.fixture
def bucket(direct_client: Any) -> str:
    """A fresh bucket, created directly on moto (not through the proxy)."""
    name = f"nb-fp-{uuid.uuid4().hex[:10]}"
    S3Store(name, direct_client).ensure_bucket()
    return name


@pytest.fixture
def direct(direct_client: Any, bucket: str) -> S3Store:
    """The test's bucket, bypassing the proxy: what moto really holds."""
    return S3Store(bucket, direct_client)


@pytest.fixture
def backoff_delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff delays botocore's standard retry mode computes (and sleeps), in order."""
    from botocore.retries import standard

    delays: list[float] = []
    original = standard.ExponentialBackoff.delay_amount

    def recording(self: standard.ExponentialBackoff, context: object) -> float:
        delay = float(original(self, context))
        delays.append(delay)
        return delay

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", recording)
    return delays


def _settings(endpoint: str, data_dir: Path, bucket: str, *, max_attempts: int = 1, read_timeout: float = 5.0,
              access_key: str = "test", secret_key: str = "test") -> Settings:
    return Settings(data_dir=data_dir, s3={
        "endpoint_url": endpoint, "bucket": bucket, "access_key_id": access_key,
        "secret_access_key": secret_key, "max_attempts": max_attempts, "read_timeout": read_timeout,
        "connect_timeout": 2.0})


def _store(proxy: FaultProxy, tmp_path: Path, bucket: str, **kw: object) -> S3Store:
    return S3Store.from_settings(_settings(proxy.url, tmp_path, bucket, **kw))  # type: ignore[arg-type]


# ----- pass-through ------------------------------------------------------------------------------


def test_pass_through_round_trips_put_get_head_list_byte_for_byte(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(1 << 20)
    store = _store(proxy, tmp_path, bucket)
    meta = {"agency": "甲局".encode().hex(), "sha256": hashlib.sha256(data).hexdigest()}
    assert store.put(KEY, data, "application/pdf", metadata=meta)
    obj = store.get(KEY)
    assert obj.data == data
    assert obj.etag == hashlib.md5(data).hexdigest()  # noqa: S324 (S3's ETag of a single-part upload)
    assert obj.metadata == meta
    assert obj.content_type == "application/pdf"
    head = store.head(KEY)
    assert head is not None and (head.size, head.etag) == (len(data), obj.etag)
    assert [r.key for r in store.list("inbox/")] == [KEY]
    assert store.head("inbox/missing") is None  # a 404 passes through as a 404
    assert direct.get_bytes(KEY) == data  # what moto stored is what was sent

    st = proxy.stats()
    assert st.requests == st.forwarded == 5 and st.faults_total == 0 and st.upstream_errors == 0
    assert st.by_key[KEY]["requests"] == 3 and st.by_key[""]["requests"] == 1
    assert st.by_method == {"PUT": 1, "GET": 2, "HEAD": 2}
    # Sequential calls reuse boto3's one pooled connection although moto closes after each answer.
    assert st.connections == 1


def test_sigv4_signatures_still_verify_through_the_proxy(
        proxy: FaultProxy, s3: local_s3.LocalS3, tmp_path: Path) -> None:
    """With moto's authentication on, requests signed for the proxy's Host verify upstream, so the
    proxy forwards Host, Authorization and x-amz-* unchanged; a wrong secret still fails."""
    import boto3

    def set_unauthenticated_actions(n: str) -> None:  # moto's switch; it is process-wide: restored below
        req = urllib.request.Request(f"{s3.endpoint_url}/moto-api/reset-auth", data=n.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
            assert r.status == 200

    set_unauthenticated_actions("3")  # the three IAM calls below; everything after is verified
    try:
        iam = boto3.client("iam", endpoint_url=s3.endpoint_url, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="y")
        user = f"fp-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        name = f"nb-fp-sig-{uuid.uuid4().hex[:8]}"
        good = S3Store.from_settings(_settings(proxy.url, tmp_path, name, access_key=key["AccessKeyId"],
                                               secret_key=key["SecretAccessKey"]))
        good.ensure_bucket()
        assert good.put(KEY, b"signed", metadata={"x": "y"})
        assert good.get_bytes(KEY) == b"signed"
        assert [r.key for r in good.list("")] == [KEY]
        bad = S3Store.from_settings(_settings(proxy.url, tmp_path, name, access_key=key["AccessKeyId"],
                                              secret_key="wrong"))
        with pytest.raises(ConfigError, match="SignatureDoesNotMatch"):
            bad.get(KEY)
    finally:
        set_unauthenticated_actions("inf")


class _Recorder(http.server.BaseHTTPRequestHandler):
    """An upstream that records the raw request and answers with a chunked body."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, list[tuple[str, str]], bytes]] = []

    def do_PUT(self) -> None:
        raw = b""
        while True:  # the chunked body exactly as it arrives
            line = self.rfile.readline()
            raw += line
            size = int(line.split(b";")[0], 16)
            chunk = self.rfile.read(size + 2)
            raw += chunk
            if size == 0:
                break
        self.seen.append((self.requestline, list(self.headers.items()), raw))
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Echo", "kept")
        self.send_header("Connection", "close")
        self.end_headers()
        for part in (b"hello ", b"world"):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_headers_and_chunked_bodies_pass_unchanged_both_ways() -> None:
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    _Recorder.seen = []
    try:
        with FaultProxy(f"http://127.0.0.1:{upstream.server_address[1]}") as proxy:
            conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=5)
            headers = [("Host", "bucket.example:9000"), ("authorization", "AWS4-HMAC-SHA256 Credential=k/x"),
                       ("X-Amz-Meta-Mixed-Case", "值"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                       ("Transfer-Encoding", "chunked")]
            conn.putrequest("PUT", "/b/some%20key?partNumber=1", skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v.encode())
            conn.endheaders()
            body = b"5;ext=1\r\nabcde\r\n3\r\nfgh\r\n0\r\n\r\n"
            conn.send(body)
            resp = conn.getresponse()
            assert (resp.status, resp.read(), resp.getheader("X-Echo")) == (200, b"hello world", "kept")
            # moto-like upstream closed; the client's connection to the proxy stays usable.
            assert resp.getheader("Connection") is None and not resp.will_close
            conn.close()
            assert proxy.stats().by_key == {"some key": {"requests": 1}}
        [(line, got, raw)] = _Recorder.seen
        assert line == "PUT /b/some%20key?partNumber=1 HTTP/1.1"
        assert got == [(k, v.encode().decode("latin-1")) for k, v in headers]
        assert raw == body
    finally:
        upstream.shutdown()
        upstream.server_close()


# ----- status faults -----------------------------------------------------------------------------


def test_slowdown_twice_is_retried_by_botocore_with_backoff(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path, backoff_delays: list[float]) -> None:
    direct.put(KEY, b"report")
    rule = proxy.add_rule(Rule(method="GET", key=re.escape(KEY), status=503, code="SlowDown", times=2))
    store = _store(proxy, tmp_path, bucket, max_attempts=4)
    assert store.get(KEY).data == b"report"
    assert proxy.fired(rule) == 2
    st = proxy.stats()
    assert st.faults == {"status": 2} and st.by_key[KEY] == {"requests": 3, "status": 2}
    # SlowDown is a throttling code: backoff rand(0,1) * 1 s, then * 2 s.
    assert len(backoff_delays) == 2 and backoff_delays[0] <= 1 and backoff_delays[1] <= 2
    assert store.head(KEY) is not None  # the rule is spent


@pytest.mark.parametrize(("status", "code"), [
    (503, "SlowDown"), (503, "ServiceUnavailable"), (500, "InternalError"), (429, "TooManyRequests")])
def test_error_status_that_persists_is_a_client_error_translated_transient(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path, status: int, code: str) -> None:
    direct.put(KEY, b"report")
    proxy.add_rule(Rule(method="GET", key=re.escape(KEY), status=status, code=code))
    store = _store(proxy, tmp_path, bucket)
    with pytest.raises(TransientError, match=code) as info:
        store.get(KEY)
    cause = info.value.__cause__
    assert isinstance(cause, ClientError)
    assert cause.response["Error"]["Code"] == code
    assert cause.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert proxy.stats().faults == {"status": FEWEST}  # botocore retried each of them


def test_error_status_on_head_and_listing(proxy: FaultProxy, bucket: str, tmp_path: Path) -> None:
    proxy.add_rule(Rule(method="HEAD", status=503))
    proxy.add_rule(Rule(method="GET", query="list-type=2", status=500))
    store = _store(proxy, tmp_path, bucket)
    with pytest.raises(TransientError, match="503"):  # no body on a HEAD: botocore's code is "503"
        store.head(KEY)
    with pytest.raises(TransientError, match="InternalError"):
        list(store.list("inbox/"))
    assert proxy.stats().by_key[""] == {"requests": FEWEST, "status": FEWEST}


def test_max_attempts_counts_retries_and_x_amz_retry_after_is_honoured(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path, backoff_delays: list[float]) -> None:
    direct.put(KEY, b"report")
    proxy.add_rule(Rule(method="GET", status=500, retry_after=0.3, times=1))
    assert _store(proxy, tmp_path, bucket, max_attempts=1).get(KEY).data == b"report"
    assert proxy.stats().by_key[KEY] == {"requests": 2, "status": 1}  # max_attempts=1: one retry
    # InternalError backs off by rand * 50 ms, raised to the server's x-amz-retry-after.
    assert backoff_delays == [pytest.approx(0.3)]


def test_unreachable_upstream_is_a_502_bad_gateway(bucket: str, tmp_path: Path) -> None:
    """Through the proxy a dead server is a 502 (botocore: ClientError BadGateway, retried as a
    5xx), not the EndpointConnectionError a direct client would get."""
    with FaultProxy(f"http://127.0.0.1:{local_s3.free_port()}") as proxy:
        store = S3Store.from_settings(_settings(proxy.url, tmp_path, bucket))
        with pytest.raises(TransientError, match="BadGateway"):
            store.get(KEY)
        assert proxy.stats().upstream_errors == FEWEST


# ----- connection resets -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "when"), [("GET", "before"), ("PUT", "before"), ("PUT", "after")])
def test_reset_is_a_connection_closed_error_translated_transient(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path, method: str, when: str) -> None:
    direct.put("inbox/other", b"x")
    proxy.add_rule(Rule(method=method, key=re.escape(KEY), reset=when))  # type: ignore[arg-type]
    store = _store(proxy, tmp_path, bucket)
    with pytest.raises(TransientError, match="connection to the S3 endpoint failed") as info:
        if method == "GET":
            store.get(KEY)
        else:
            store.put(KEY, os.urandom(200_000))
    assert isinstance(info.value.__cause__, ConnectionClosedError)
    assert not isinstance(info.value, StoreUnreachable)  # one request's fault, not the store's
    assert direct.head(KEY) is None  # never reached moto
    assert proxy.stats().faults == {"reset": FEWEST}
    assert store.head("inbox/other") is not None  # the pool replaced the dead connection


def test_a_closed_endpoint_is_store_unreachable(proxy: FaultProxy, bucket: str, tmp_path: Path) -> None:
    store = _store(proxy, tmp_path, bucket)
    proxy.close()  # nothing listens on the port any more
    with pytest.raises(StoreUnreachable, match="cannot reach the S3 endpoint"):
        store.get(KEY)


def test_reset_with_retries_succeeds(proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path) -> None:
    proxy.add_rule(Rule(method="PUT", reset="after", times=1))
    store = _store(proxy, tmp_path, bucket, max_attempts=2)
    data = os.urandom(300_000)
    assert store.put(KEY, data)
    assert direct.get_bytes(KEY) == data
    assert proxy.stats().by_key[KEY] == {"requests": 2, "reset": 1}


def test_reset_after_the_put_was_applied_makes_a_create_only_put_report_not_written(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path) -> None:
    """The answer to a create-only PUT is lost after moto stored the object; botocore retries, the
    retry gets 412 and ``put`` returns False although this very call wrote the object.

    Pins current behaviour of ``S3Store.put`` (see the report); change it when ``put`` learns to
    recognise its own earlier attempt (e.g. by comparing the stored ETag with the data's MD5).
    """
    proxy.add_rule(Rule(method="PUT", reset="forwarded", times=1))
    store = _store(proxy, tmp_path, bucket, max_attempts=2)
    wrote = store.put(KEY, b"v1", if_none_match=True)
    assert direct.get_bytes(KEY) == b"v1"
    assert proxy.stats().by_key[KEY] == {"requests": 2, "reset": 1}
    assert wrote is False


# ----- delays and truncated bodies ---------------------------------------------------------------


def test_delay_past_the_read_timeout_is_a_read_timeout_translated_transient(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path) -> None:
    direct.put(KEY, b"report")
    rule = proxy.add_rule(Rule(method="GET", delay=1.0, times=FEWEST))
    store = _store(proxy, tmp_path, bucket, read_timeout=0.3)
    t0 = time.monotonic()
    with pytest.raises(TransientError) as info:
        store.get(KEY)
    assert isinstance(info.value.__cause__, ReadTimeoutError)
    assert 0.5 < time.monotonic() - t0 < 1.5  # two read timeouts, not the delays
    assert proxy.fired(rule) == FEWEST
    assert store.get(KEY).data == b"report"  # the rule is spent: not delayed any more


def test_truncated_body_is_a_response_streaming_error_botocore_does_not_retry(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(100_000)
    direct.put(KEY, data)
    proxy.add_rule(Rule(method="GET", truncate=0.5))
    store = _store(proxy, tmp_path, bucket)
    # botocore's retries end when the head arrives; the body is read after them.
    resp = store.client.get_object(Bucket=bucket, Key=KEY)
    assert resp["ContentLength"] == len(data)
    with pytest.raises(ResponseStreamingError, match="IncompleteRead") as info:
        resp["Body"].read()
    assert proxy.stats().by_key[KEY] == {"requests": 1, "truncate": 1}
    assert type(translate(info.value, "get")) is TransientError
    with pytest.raises(TransientError, match="IncompleteRead") as info2:
        store.get(KEY)  # cut off every time
    assert isinstance(info2.value.__cause__, ResponseStreamingError)


def test_store_get_reads_a_body_cut_off_once_again(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(100_000)
    direct.put(KEY, data)
    proxy.add_rule(Rule(method="GET", truncate=0.3, times=1))
    assert _store(proxy, tmp_path, bucket, max_attempts=2).get(KEY).data == data
    assert proxy.stats().by_key[KEY] == {"requests": 2, "truncate": 1}


# ----- rules, concurrency, shutdown, command line ------------------------------------------------


def test_rule_matching_parsing_and_validation() -> None:
    r = Rule.parse("GET|HEAD:inbox/.*\\.pdf:status=503:code=SlowDown:times=2:p=0.5:seed=3")
    assert (r.kind, r.status, r.code, r.times, r.probability, r.seed) == (
        "status", 503, "SlowDown", 2, 0.5, 3)
    assert r.matches("GET", "inbox/a.pdf", "") and r.matches("head", "inbox/a.pdf", "")
    assert not r.matches("PUT", "inbox/a.pdf", "") and not r.matches("GET", "inbox/a.pdfx", "")
    assert Rule.parse(str(r)) == r
    listing = Rule.parse("GET::reset=before:query=list-type=2")
    assert listing.matches("GET", "", "list-type=2&prefix=inbox%2F") and not listing.matches("GET", "", "")
    assert Rule.parse("*::delay=0.5").matches("DELETE", "x", "")
    for bad in ("GET:.*", "GET:.*:status=200", "GET:.*:nope=1", "GET:(:status=500"):
        with pytest.raises(ValueError):
            Rule.parse(bad)
    with pytest.raises(ValueError, match="exactly one"):
        Rule(status=500, delay=1)


def test_key_times_and_seeded_probability_are_reproducible(s3: local_s3.LocalS3) -> None:
    def run() -> list[int]:
        with FaultProxy(s3.endpoint_url, seed=42) as p:
            p.add_rule(Rule(key="k/a.*", status=500, key_times=1))
            p.add_rule(Rule(status=503, probability=0.3))
            conn = http.client.HTTPConnection(p.host, p.port, timeout=5)
            statuses = []
            for i in range(60):
                conn.request("GET", f"/no-such-bucket/k/{'ab'[i % 2]}{i % 4}")
                resp = conn.getresponse()
                resp.read()
                statuses.append(resp.status)
            conn.close()
            assert p.stats().connections == 1  # error answers keep the connection alive too
            return statuses

    first = run()
    assert first[0] == first[2] == 500 and first.count(500) == 2  # k/a0 and k/a2, once each
    assert 8 <= first.count(503) <= 28  # ~30 % of the other 58
    assert set(first) == {500, 503, 404}  # 404: forwarded to moto (no such bucket)
    assert run() == first


def test_concurrent_clients_under_faults_get_exact_bytes(
        proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path) -> None:
    proxy.add_rule(Rule(status=500, probability=0.1))
    proxy.add_rule(Rule(method="GET", reset="before", probability=0.05))
    proxy.add_rule(Rule(method="PUT", reset="after", probability=0.05))
    store = _store(proxy, tmp_path, bucket, max_attempts=6)
    objects = {f"inbox/c/{i:02d}.bin": os.urandom(64 * 1024) for i in range(32)}
    with ThreadPoolExecutor(16) as pool:
        assert all(pool.map(lambda kv: store.put(*kv), objects.items()))
        got = list(pool.map(store.get_bytes, objects))
    assert got == list(objects.values())
    st = proxy.stats()
    assert st.faults_total > 0 and st.upstream_errors == 0
    assert st.requests == st.forwarded + st.faults["status"] + st.faults["reset"]
    assert sum(c["requests"] for c in st.by_key.values()) == st.requests


def test_close_ends_delayed_and_idle_connections_promptly(
        s3: local_s3.LocalS3, bucket: str, tmp_path: Path) -> None:
    proxy = FaultProxy(s3.endpoint_url)
    store = _store(proxy, tmp_path, bucket, read_timeout=30)
    assert store.head(KEY) is None  # leaves an idle keep-alive connection open
    proxy.add_rule(Rule(method="GET", delay=30))
    errors: list[Exception] = []

    def stuck_get() -> None:
        try:
            store.get(KEY)
        except TransientError as exc:
            errors.append(exc)

    t = threading.Thread(target=stuck_get)
    t.start()
    while proxy.stats().faults["delay"] == 0:
        time.sleep(0.01)
    t0 = time.monotonic()
    proxy.close()
    assert time.monotonic() - t0 < 2
    t.join(5)
    assert not t.is_alive() and len(errors) == 1
    names = [th.name for th in threading.enumerate() if th.is_alive()]
    assert not [n for n in names if n == f"fault-proxy-{proxy.port}" or n.startswith("fault-proxy-conn-")]


def test_command_line_proxy_for_soak_runs(s3: local_s3.LocalS3, bucket: str, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.fault_proxy", "--upstream", s3.endpoint_url, "--port", "0",
         "--rule", r"GET:cli/fail\.txt:status=500", "--stats-file", str(tmp_path / "stats.json")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("FAULT_PROXY_URL=http://127.0.0.1:"), first
        url = first.split("=", 1)[1]
        store = S3Store.from_settings(_settings(url, tmp_path, bucket))
        store.put(KEY, b"x")
        with pytest.raises(TransientError, match="InternalError"):
            store.get("cli/fail.txt")
        assert store.get_bytes(KEY) == b"x"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["faults"] == {"status": FEWEST} and stats["requests"] == 2 + FEWEST
    assert stats["by_key"]["cli/fail.txt"] == {"requests": FEWEST, "status": FEWEST}
    assert json.loads((tmp_path / "stats.json").read_text()) == stats


def test_expect_100_continue_bodies(proxy: FaultProxy, direct: S3Store, bucket: str, tmp_path: Path) -> None:
    """A file-like body makes botocore send ``Expect: 100-continue``; a status fault answers before
    asking for the body, a forwarded request gets its 100 Continue."""
    proxy.add_rule(Rule(method="PUT", status=500))
    store = _store(proxy, tmp_path, bucket)
    data = os.urandom(150_000)
    with pytest.raises(ClientError, match="InternalError"):
        store.client.put_object(Bucket=bucket, Key=KEY, Body=io.BytesIO(data))
    proxy.clear()
    store.client.put_object(Bucket=bucket, Key=KEY, Body=io.BytesIO(data))
    assert direct.get_bytes(KEY) == data
