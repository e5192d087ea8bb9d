"""Bucket notifications → the uploads they report: S3 event records in, :class:`UploadEvent` out.

Why it is separate: reading a notification body is the same whoever delivers it (Ceph RGW's HTTP
push to :mod:`nianbao.intake.relay`, an SQS consumer reading S3 or EventBridge messages), and it
is pure: no server, no Prefect, no network. The relay forwards what :func:`parse_records` returns;
the formats it accepts, and how each encodes keys, are described there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

DEFAULT_PREFIX = "inbox/"


@dataclass(frozen=True, slots=True)
class UploadEvent:
    """One object created under the inbox, as a notification reported it."""

    bucket: str
    key: str
    etag: str | None
    size: int | None
    event_name: str = "ObjectCreated:Put"
    event_time: str | None = None

    @property
    def resource_id(self) -> str:
        """The Prefect resource id: ``s3.object.<bucket>/<key>``."""
        return f"s3.object.{self.bucket}/{self.key}"

    def payload(self) -> dict[str, Any]:
        """The event payload a trigger templates flow parameters from."""
        return {"bucket": self.bucket, "key": self.key, "etag": self.etag, "size": self.size}


def parse_records(body: bytes | str | dict[str, Any], prefix: str = DEFAULT_PREFIX) -> list[UploadEvent]:
    """The uploads under ``prefix`` that one notification body reports.

    Accepts the S3 ``{"Records": [...]}`` format (RGW HTTP push, S3→SQS message bodies), an SNS
    envelope around it (``{"Type": "Notification", "Message": "..."}``) and an EventBridge
    ``Object Created`` event. Keys are URL-encoded in AWS records (``+`` for space) and are
    decoded; RGW's (``eventSource`` ``ceph:s3``) are not encoded and are taken as they are.
    ``s3:TestEvent`` and non-create events yield nothing. Raises ``ValueError`` for a body that
    is not JSON or not a notification at all.
    """
    doc = json.loads(body) if isinstance(body, bytes | str) else body
    if not isinstance(doc, dict):
        raise ValueError("notification body is not a JSON object")
    if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        return parse_records(doc["Message"], prefix)
    if doc.get("Event") == "s3:TestEvent" or doc.get("Type") == "SubscriptionConfirmation":
        return []
    if doc.get("source") == "aws.s3" and isinstance(doc.get("detail"), dict):
        return _eventbridge(doc, prefix)
    records = doc.get("Records")
    if not isinstance(records, list):
        raise ValueError("notification body has no Records list")
    out = []
    for rec in records:
        ev = _record(rec)
        if ev is not None and ev.key.startswith(prefix):
            out.append(ev)
    return out


def _record(rec: Any) -> UploadEvent | None:
    if not isinstance(rec, dict):
        return None
    name = str(rec.get("eventName", "")).removeprefix("s3:")  # MinIO and older RGW prefix "s3:"
    if not name.startswith("ObjectCreated"):
        return None
    s3 = rec.get("s3") or {}
    bucket = (s3.get("bucket") or {}).get("name")
    obj = s3.get("object") or {}
    key = obj.get("key")
    if not bucket or not key:
        return None
    # AWS S3 (and moto, MinIO) URL-encode the key ("red flower.jpg" -> "red+flower.jpg"); Ceph RGW
    # sends it as stored (measured on 16.2: "年报 a+b%20c.txt" arrives verbatim), so decoding
    # it would turn a literal "+" into a space.
    raw_key = str(rec.get("eventSource", "")).startswith("ceph:")
    return UploadEvent(
        bucket=str(bucket),
        key=str(key) if raw_key else unquote_plus(str(key)),
        etag=_etag(obj.get("eTag") or obj.get("etag")),
        size=_int(obj.get("size")),
        event_name=name,
        event_time=rec.get("eventTime"),
    )


def _eventbridge(doc: dict[str, Any], prefix: str) -> list[UploadEvent]:
    if doc.get("detail-type") != "Object Created":
        return []
    detail = doc["detail"]
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    key = obj.get("key")
    if not bucket or not key:
        return []
    # EventBridge keys are URL-encoded like S3 records.
    ev = UploadEvent(str(bucket), unquote_plus(str(key)), _etag(obj.get("etag")), _int(obj.get("size")),
                     "ObjectCreated:" + str(detail.get("reason", "PutObject")), doc.get("time"))
    return [ev] if ev.key.startswith(prefix) else []


def _etag(v: Any) -> str | None:
    return str(v).strip('"') if v else None


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def keys_from_notification(body: bytes | str | dict[str, Any], inbox: str = DEFAULT_PREFIX) -> tuple[str, list[str]]:
    """``(bucket, keys)`` of the object-created records under ``inbox`` in one notification.

    The batch form (one event per notification, all its keys) that ``flows/watch.py relay`` was
    written against; see the batch interface in :mod:`nianbao.intake.relay`.
    """
    bucket, keys = "", []
    for ev in parse_records(body, inbox):
        bucket = ev.bucket
        if ev.key not in keys:
            keys.append(ev.key)
    return bucket, keys
