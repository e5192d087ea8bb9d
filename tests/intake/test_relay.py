"""The notification relay: the HTTP receiver, what it posts to Prefect, and the RGW setup.

A stand-in Prefect (a local HTTP server recording ``POST /api/events``) checks the event schema
without starting a Prefect server; the real RGW path is in ``tests/e2e/test_rgw_notifications.py``,
record parsing in ``tests/intake/test_events.py``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.hooks import HierarchicalEmitter

from nianbao.errors import TerminalError, TransientError
from nianbao.intake.events import UploadEvent
from nianbao.intake.relay import (
    EVENT_NAME,
    Relay,
    configure_rgw_notifications,
    post_events,
    prefect_event,
)
from tests.intake.test_events import s3_record

# --- the Prefect event --------------------------------------------------------------------------


def test_prefect_event_schema() -> None:
    ev = UploadEvent("nianbao", "inbox/a/2023/x.pdf", "abc", 12)
    doc = prefect_event(ev)
    assert set(doc) == {"id", "occurred", "event", "resource", "payload"}
    uuid.UUID(doc["id"])
    assert datetime.fromisoformat(doc["occurred"]).tzinfo is not None
    assert doc["event"] == EVENT_NAME == "nianbao.upload.received"
    assert doc["resource"]["prefect.resource.id"] == "s3.object.nianbao/inbox/a/2023/x.pdf"
    assert doc["payload"] == {"bucket": "nianbao", "key": "inbox/a/2023/x.pdf", "etag": "abc", "size": 12}


# --- the receiver, with a stand-in Prefect -------------------------------------------------------


class FakePrefect:
    """Records ``POST /api/events`` bodies; answers ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.posts: list[tuple[str, Any]] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append((self.path, json.loads(body)))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api"


@pytest.fixture
def prefect() -> Iterator[FakePrefect]:
    fake = FakePrefect()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_relay_forwards_to_prefect_and_the_callback(prefect: FakePrefect) -> None:
    seen: list[UploadEvent] = []
    body = json.dumps({"Records": [s3_record("inbox/cangtai/2023/r+1.pdf"), s3_record("outbox/x.json")]}).encode()
    with Relay(prefect.api_url, seen.append) as relay:
        status, answer = post(relay.url, body)
    assert status == 200 and answer == {"forwarded": ["inbox/cangtai/2023/r 1.pdf"]}
    assert [e.key for e in seen] == ["inbox/cangtai/2023/r 1.pdf"]
    ((path, events),) = prefect.posts
    assert path == "/api/events"
    (event,) = events
    assert event["event"] == "nianbao.upload.received"
    assert event["resource"]["prefect.resource.id"] == "s3.object.nianbao/inbox/cangtai/2023/r 1.pdf"
    assert event["payload"] == {"bucket": "nianbao", "key": "inbox/cangtai/2023/r 1.pdf", "etag": "abc123", "size": 7}


def test_relay_without_prefect_only_calls_back() -> None:
    seen: list[UploadEvent] = []
    with Relay(callback=seen.append) as relay:
        status, _ = post(relay.url, json.dumps({"Records": [s3_record("inbox/a/2023/x.pdf")]}).encode())
        with urllib.request.urlopen(relay.url.replace("/s3-events", "/healthz"), timeout=5) as resp:
            assert resp.status == 200
    assert status == 200 and len(seen) == 1


def test_relay_answers_400_for_garbage_and_503_when_prefect_is_down(prefect: FakePrefect) -> None:
    with Relay(prefect.api_url) as relay:
        assert post(relay.url, b"{not json")[0] == 400
        prefect.status = 503
        status, answer = post(relay.url, json.dumps({"Records": [s3_record("inbox/a/2023/x.pdf")]}).encode())
    assert status == 503 and "retry" in answer["error"]


def test_a_failing_callback_does_not_fail_the_delivery() -> None:
    def boom(ev: UploadEvent) -> None:
        raise RuntimeError("observer bug")

    with Relay(callback=boom) as relay:
        assert post(relay.url, json.dumps({"Records": [s3_record("inbox/a/2023/x.pdf")]}).encode())[0] == 200


def test_post_events_errors() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as srv:
        port = srv.server_address[1]
    with pytest.raises(TransientError, match="cannot reach Prefect"):
        post_events(f"http://127.0.0.1:{port}/api", [], timeout=2)
    fake = FakePrefect(status=422)
    fake.thread.start()
    try:
        with pytest.raises(TerminalError, match="422"):
            post_events(fake.api_url, [{"bad": "event"}])
    finally:
        fake.server.shutdown()
        fake.server.server_close()


# --- RGW configuration (the calls; the real thing is the rgw e2e test) ---------------------------


class FakeS3:
    def __init__(self, existing: list[dict[str, Any]]) -> None:
        self.config = existing
        self.puts: list[dict[str, Any]] = []
        self.meta = type("Meta", (), {"events": HierarchicalEmitter()})()

    def get_bucket_notification_configuration(self, Bucket: str) -> dict[str, Any]:  # noqa: N803
        return {"TopicConfigurations": self.config}

    def put_bucket_notification_configuration(self, Bucket: str, NotificationConfiguration: dict[str, Any]) -> None:  # noqa: N803
        self.puts.append(NotificationConfiguration)


class FakeSNS:
    def __init__(self) -> None:
        self.topics: list[tuple[str, dict[str, str]]] = []

    def create_topic(self, Name: str, Attributes: dict[str, str]) -> dict[str, str]:  # noqa: N803
        self.topics.append((Name, Attributes))
        return {"TopicArn": f"arn:aws:sns:default::{Name}"}


def test_configure_rgw_notifications_replaces_foreign_configurations() -> None:
    s3, sns = FakeS3([{"Id": "old", "TopicArn": "arn:aws:sns:default::old"}]), FakeSNS()
    arn = configure_rgw_notifications(s3, sns, "nianbao", "http://127.0.0.1:8099/s3-events")
    assert arn == "arn:aws:sns:default::nianbao-uploads"
    assert sns.topics == [("nianbao-uploads", {"push-endpoint": "http://127.0.0.1:8099/s3-events", "persistent": "false"})]
    clear, ours = s3.puts
    assert clear == {"TopicConfigurations": []}  # sent as DELETE ?notification by the before-sign hook
    (conf,) = ours["TopicConfigurations"]
    assert conf["Events"] == ["s3:ObjectCreated:*"] and conf["TopicArn"] == arn
    assert conf["Filter"] == {"Key": {"FilterRules": [{"Name": "prefix", "Value": "inbox/"}]}}


def test_configure_rgw_notifications_keeps_its_own_configuration() -> None:
    s3, sns = FakeS3([{"Id": "nianbao-uploads-inbox"}]), FakeSNS()
    configure_rgw_notifications(s3, sns, "nianbao", "http://x/", persistent=True)
    assert len(s3.puts) == 1 and sns.topics[0][1]["persistent"] == "true"


# --- the batch interface (flows/watch.py relay) --------------------------------------------------


def test_batch_interface_calls_emit_once_per_notification() -> None:
    from nianbao.intake.relay import batch_event, start_relay_thread

    body = {"Records": [s3_record("inbox/a/2023/x+1.pdf"), s3_record("inbox/a/2023/x+1.pdf"),
                        s3_record("inbox/b/2023/y.pdf"), s3_record("outbox/z.json")]}
    calls: list[tuple[str, list[str]]] = []
    server = start_relay_thread("127.0.0.1", 0, "inbox/", lambda b, k: calls.append((b, k)))
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert post(url, json.dumps(body).encode())[0] == 200
    finally:
        server.shutdown()
        server.server_close()
    assert calls == [("nianbao", ["inbox/a/2023/x 1.pdf", "inbox/b/2023/y.pdf"])]
    ev = batch_event("nianbao", ["inbox/a/2023/x 1.pdf"])
    assert ev["event"] == "nianbao.upload.created" and ev["payload"]["keys"] == ["inbox/a/2023/x 1.pdf"]
