"""A fast path from bucket notifications to Prefect: an HTTP receiver that posts Prefect events.

The poller (a ledger of processed ``(key, ETag)``) is what guarantees every upload is handled;
this relay only makes the common case quick. A backend that pushes notifications (Ceph RGW by
HTTP push; AWS S3 via SQS or EventBridge, whose message bodies a consumer hands to
:func:`~nianbao.intake.events.parse_records`, which stays importable from here as the infra docs
name it) sends S3-format records here; each ``ObjectCreated`` record under
``inbox/`` becomes a Prefect event ``nianbao.upload.received`` posted to ``{PREFECT_API_URL}/events``,
which a ``DeploymentEventTrigger`` turns into a flow run. Prefect OSS has no webhooks, and its
events API accepts only its own schema, hence this adapter (feasibility.md §4, §6c). It carries
no state: a lost notification only delays an upload until the next reconciling poll.

Delivery is at least once: a record may arrive twice (RGW retries persistent topics, SQS
redelivers), so whatever the event triggers must be idempotent, as the ledger makes it.

Reading the records is :mod:`nianbao.intake.events`; this module holds what talks to the network:
the HTTP receiver, the posts to Prefect and the RGW notification setup. Stdlib only
(``http.server`` in a thread, ``urllib``): it runs next to RGW in CI and must not pull in a web
framework. The batch interface at the end (``serve_relay``, ``emit_prefect_event``) is what
``flows/watch.py relay`` uses.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nianbao.errors import TerminalError, TransientError
from nianbao.intake.events import DEFAULT_PREFIX, UploadEvent, parse_records

log = logging.getLogger(__name__)

EVENT_NAME = "nianbao.upload.received"
"""The per-object Prefect event: resource ``s3.object.<bucket>/<key>``, payload bucket/key/etag/size."""
MAX_BODY = 1024 * 1024
"""A notification is a few KB; anything larger is not one."""


# --- Prefect ----------------------------------------------------------------------------------


def prefect_event(ev: UploadEvent, occurred: datetime | None = None) -> dict[str, Any]:
    """The event in Prefect's own schema (the only one ``POST /api/events`` accepts)."""
    return {
        "id": str(uuid.uuid4()),
        "occurred": (occurred or datetime.now(UTC)).isoformat(),
        "event": EVENT_NAME,
        "resource": {"prefect.resource.id": ev.resource_id, "prefect.resource.name": ev.key},
        "payload": ev.payload(),
    }


def post_events(api_url: str, events: list[dict[str, Any]], timeout: float = 5.0) -> None:
    """``POST {api_url}/events``; ``TransientError`` when Prefect is unreachable or answers 5xx."""
    url = api_url.rstrip("/") + "/events"
    req = urllib.request.Request(
        url, data=json.dumps(events).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        if exc.code >= 500 or exc.code == 429:
            raise TransientError(f"Prefect {url} answered {exc.code}: {detail}; retry later") from exc
        raise TerminalError(f"Prefect {url} refused the events ({exc.code}: {detail}); check PREFECT_API_URL") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TransientError(f"cannot reach Prefect at {url} ({exc}); is the server running?") from exc


# --- the HTTP receiver ------------------------------------------------------------------------

Callback = Callable[[UploadEvent], None]
Emit = Callable[[str, list[str]], None]
"""``emit(bucket, keys)``: what to do with the keys of one notification (the batch interface)."""


class Relay:
    """An HTTP receiver for notifications, in a background thread.

    ``POST`` any path with a notification body: each upload under ``prefix`` is posted to Prefect
    (when ``prefect_api_url`` is set), passed to ``callback`` (tests observe it this way, without
    a Prefect server) and, per notification, to ``on_notification(bucket, keys)``. Answers 200
    when all were forwarded, 400 for a body that is not a notification (retrying will not help),
    503 when Prefect could not be reached, so a backend that retries (RGW persistent topics, SQS)
    delivers again later. ``GET /healthz`` answers 200.

    Use as a context manager, or ``start()`` / ``stop()``. ``port=0`` picks a free port; read
    :attr:`url` after starting.
    """

    def __init__(
        self,
        prefect_api_url: str | None = None,
        callback: Callback | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 5.0,
        on_notification: Emit | None = None,
    ) -> None:
        self.prefect_api_url = prefect_api_url
        self.callback = callback
        self.on_notification = on_notification
        self.prefix = prefix
        self.timeout = timeout
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where to point a push endpoint: ``http://host:port/s3-events``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/s3-events"

    def start(self) -> Relay:
        if self._thread is None:
            # A short poll interval makes stop() return in ~50 ms instead of the default 0.5 s.
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="nianbao-relay", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Relay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, body: bytes) -> list[UploadEvent]:
        """Forward one notification body; what the HTTP handler calls (and tests may too)."""
        events = parse_records(body, self.prefix)
        if events and self.prefect_api_url:
            post_events(self.prefect_api_url, [prefect_event(ev) for ev in events], self.timeout)
        if events and self.on_notification is not None:
            by_bucket: dict[str, list[str]] = {}
            for ev in events:
                keys = by_bucket.setdefault(ev.bucket, [])
                if ev.key not in keys:
                    keys.append(ev.key)
            for bucket, keys in by_bucket.items():
                self.on_notification(bucket, keys)
        for ev in events:
            if self.callback is not None:
                try:
                    self.callback(ev)
                except Exception:  # an observer's bug must not turn a delivered event into a retry
                    log.exception("relay callback failed for %s", ev.resource_id)
        return events


def _handler_for(relay: Relay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "nianbao-relay"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(200 if self.path.rstrip("/") in ("/healthz", "") else 404, {"ok": True})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                self._answer(400, {"error": "expected a notification body up to 1 MB"})
                return
            body = self.rfile.read(length)
            try:
                events = relay.handle(body)
            except ValueError as exc:  # includes json.JSONDecodeError
                log.warning("relay: not a notification: %s", exc)
                self._answer(400, {"error": str(exc)})
            except TransientError as exc:
                log.warning("relay: %s", exc)
                self._answer(503, {"error": str(exc)})
            except TerminalError as exc:
                log.error("relay: %s", exc)
                self._answer(500, {"error": str(exc)})
            else:
                self._answer(200, {"forwarded": [ev.key for ev in events]})

        def _answer(self, code: int, doc: dict[str, Any]) -> None:
            data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
            log.debug("relay %s - %s", self.address_string(), format % args)

    return Handler


# --- RGW setup --------------------------------------------------------------------------------


def configure_rgw_notifications(
    s3_client: Any,
    sns_client: Any,
    bucket: str,
    push_endpoint: str,
    *,
    prefix: str = DEFAULT_PREFIX,
    topic_name: str = "nianbao-uploads",
    persistent: bool = False,
) -> str:
    """Make RGW push every object created under ``prefix`` in ``bucket`` to ``push_endpoint``.

    RGW's notification topics are created through its SNS-compatible API (``sns_client`` must
    point at the RGW endpoint too), with the push endpoint as a topic attribute. ``persistent``
    topics queue and retry deliveries (at least once) instead of pushing inline with the PUT.

    Re-running replaces the topic's attributes and the bucket's configuration. RGW (Pacific)
    *merges* a put configuration into the existing one by id, and one dead endpoint among the
    bucket's topics stops delivery to the others, so any configuration that is not ours is
    deleted first (``DELETE /<bucket>?notification``, an RGW extension). Returns the topic ARN.
    """
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    config_id = f"{topic_name}-{prefix.strip('/') or 'all'}"
    try:
        current = s3_client.get_bucket_notification_configuration(Bucket=bucket).get("TopicConfigurations", [])
        if any(c.get("Id") != config_id for c in current):
            log.info("relay: replacing %d notification configuration(s) on bucket %s", len(current), bucket)
            _rgw_delete_notifications(s3_client, bucket)
        arn = sns_client.create_topic(
            Name=topic_name,
            Attributes={"push-endpoint": push_endpoint, "persistent": "true" if persistent else "false"},
        )["TopicArn"]
        s3_client.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "TopicConfigurations": [{
                    "Id": config_id,
                    "TopicArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }]
            },
        )
    except EndpointConnectionError as exc:
        raise TransientError(f"cannot reach RGW to configure notifications ({exc})") from exc
    except ClientError as exc:
        raise TerminalError(
            f"RGW refused the notification setup for bucket {bucket!r}: {exc}; "
            "check the bucket exists and the user may create topics"
        ) from exc
    except BotoCoreError as exc:
        raise TransientError(f"configuring RGW notifications failed ({exc})") from exc
    return str(arn)


def _rgw_delete_notifications(s3_client: Any, bucket: str) -> None:
    """``DELETE /<bucket>?notification``: drop every notification configuration of a bucket.

    boto3 has no such operation (AWS replaces the configuration on every put; RGW merges), so the
    put operation is sent as a DELETE without a body, rewritten before it is signed.
    """
    event = "before-sign.s3.PutBucketNotificationConfiguration"
    hook_id = "nianbao-rgw-delete-notifications"

    def to_delete(request: Any, **_: Any) -> None:
        request.method = "DELETE"
        request.data = b""
        for name in list(request.headers.keys()):
            low = name.lower()
            if low in ("content-md5", "content-type", "content-length") or low.startswith("x-amz-checksum") \
                    or low == "x-amz-sdk-checksum-algorithm":
                del request.headers[name]

    s3_client.meta.events.register_first(event, to_delete, unique_id=hook_id)
    try:
        s3_client.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"TopicConfigurations": []}
        )
    finally:
        s3_client.meta.events.unregister(event, unique_id=hook_id)


# --- the batch interface used by flows/watch.py -------------------------------------------------
# ``flows/watch.py relay`` and the ``ingest/on-upload`` trigger were written against a first
# version of this module: one event ``nianbao.upload.created`` per notification carrying all its
# keys, emitted through the Prefect SDK. It is kept working unchanged until the trigger moves to
# the per-object ``nianbao.upload.received`` above (or the other way round); parsing is shared
# (:mod:`nianbao.intake.events`, with ``keys_from_notification`` for the batch form), so RGW keys
# with "+" or "%" are no longer mangled.

BATCH_EVENT = "nianbao.upload.created"
"""The event name the ``ingest/on-upload`` deployment's trigger expects (batch form)."""
EVENT = BATCH_EVENT  # the first version's name for it


def batch_event(bucket: str, keys: list[str]) -> dict[str, Any]:
    """One ``nianbao.upload.created`` event for all keys of a notification (Prefect's schema)."""
    return {
        "id": str(uuid.uuid4()),
        "occurred": datetime.now(UTC).isoformat(),
        "event": BATCH_EVENT,
        "resource": {"prefect.resource.id": f"s3.object.{bucket}/{keys[0]}", "bucket": bucket},
        "payload": {"bucket": bucket, "keys": keys},
    }


def emit_prefect_event(bucket: str, keys: list[str]) -> None:
    """Send the batch event to the Prefect API configured in this process (``PREFECT_API_URL``)."""
    from prefect.events import emit_event

    ev = batch_event(bucket, keys)
    emit_event(event=ev["event"], resource=ev["resource"], payload=ev["payload"])


def make_relay(host: str, port: int, inbox: str, emit: Emit) -> ThreadingHTTPServer:
    """An HTTP server that calls ``emit(bucket, keys)`` for each notification POSTed to it."""
    return Relay(host=host, port=port, prefix=inbox, on_notification=emit)._server


def serve_relay(host: str, port: int, inbox: str, emit: Emit) -> None:
    """Run the batch relay until interrupted."""
    server = make_relay(host, port, inbox, emit)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def start_relay_thread(host: str, port: int, inbox: str, emit: Emit) -> ThreadingHTTPServer:
    """Run the batch relay in a daemon thread; stop with ``shutdown()``."""
    server = make_relay(host, port, inbox, emit)
    threading.Thread(target=server.serve_forever, name="nianbao-relay", daemon=True).start()
    return server


def _main(argv: Iterable[str] | None = None) -> None:
    """``python -m nianbao.intake.relay``: run the per-object relay in the foreground."""
    import argparse
    import os
    import time

    p = argparse.ArgumentParser(description="Relay S3/RGW bucket notifications to Prefect events.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8099)
    p.add_argument("--prefix", default=DEFAULT_PREFIX)
    p.add_argument("--prefect-api-url", default=os.environ.get("PREFECT_API_URL"),
                   help="default: $PREFECT_API_URL; without it uploads are only logged")
    args = p.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    relay = Relay(args.prefect_api_url, lambda ev: log.info("upload %s (%s bytes)", ev.resource_id, ev.size),
                  host=args.host, port=args.port, prefix=args.prefix)
    with relay:
        log.info("relay listening on %s, forwarding to %s", relay.url, args.prefect_api_url or "(nowhere)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main()
