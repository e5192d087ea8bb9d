"""Notification records → uploads: S3 records (AWS and RGW keys), SNS envelopes, EventBridge, junk."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nianbao.intake.events import UploadEvent, keys_from_notification, parse_records


def s3_record(key: str, source: str = "aws:s3", name: str = "ObjectCreated:Put", size: int = 7) -> dict[str, Any]:
    return {"eventVersion": "2.1", "eventSource": source, "eventName": name,
            "eventTime": "2024-01-20T02:30:00.000Z",
            "s3": {"bucket": {"name": "nianbao"}, "object": {"key": key, "size": size, "eTag": "abc123"}}}


def test_aws_records_have_url_encoded_keys() -> None:
    body = json.dumps({"Records": [s3_record("inbox/cangtai/2023/%E5%B9%B4%E6%8A%A5+v1%2B2.docx")]})
    assert parse_records(body) == [UploadEvent("nianbao", "inbox/cangtai/2023/年报 v1+2.docx", "abc123", 7,
                                               "ObjectCreated:Put", "2024-01-20T02:30:00.000Z")]


def test_rgw_records_keep_the_key_as_stored() -> None:
    """Ceph RGW does not encode keys (measured on 16.2): a literal + must stay a +."""
    rec = s3_record("inbox/a/2023/年报 a+b%20c.txt", source="ceph:s3")
    (ev,) = parse_records({"Records": [rec]})
    assert ev.key == "inbox/a/2023/年报 a+b%20c.txt"


def test_only_created_objects_under_the_prefix() -> None:
    body = {"Records": [
        s3_record("inbox/a/2023/x.pdf"),
        s3_record("outbox/a/2023/x.json"),
        s3_record("inbox/a/2023/y.pdf", name="ObjectRemoved:Delete"),
        s3_record("inbox/a/2023/z.pdf", name="s3:ObjectCreated:CompleteMultipartUpload"),
        "garbage",
    ]}
    assert [(e.key, e.event_name) for e in parse_records(body)] == [
        ("inbox/a/2023/x.pdf", "ObjectCreated:Put"),
        ("inbox/a/2023/z.pdf", "ObjectCreated:CompleteMultipartUpload"),
    ]
    assert [e.key for e in parse_records(body, prefix="outbox/")] == ["outbox/a/2023/x.json"]


def test_sns_envelope_eventbridge_and_test_events() -> None:
    inner = json.dumps({"Records": [s3_record("inbox/a/2023/x.pdf")]})
    assert [e.key for e in parse_records({"Type": "Notification", "Message": inner})] == ["inbox/a/2023/x.pdf"]
    eb = {"version": "0", "source": "aws.s3", "detail-type": "Object Created", "time": "2024-01-20T02:30:00Z",
          "detail": {"bucket": {"name": "b"}, "object": {"key": "inbox/a/2023/r+1.pdf", "size": 5, "etag": "e"},
                     "reason": "PutObject"}}
    assert parse_records(eb) == [UploadEvent("b", "inbox/a/2023/r 1.pdf", "e", 5, "ObjectCreated:PutObject",
                                             "2024-01-20T02:30:00Z")]
    assert parse_records({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}) == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"hello": 1}'])
def test_not_a_notification(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_records(body)


def test_keys_from_notification_once_each_under_the_inbox() -> None:
    body = {"Records": [s3_record("inbox/a/2023/x+1.pdf"), s3_record("inbox/a/2023/x+1.pdf"),
                        s3_record("inbox/b/2023/y.pdf"), s3_record("outbox/z.json")]}
    assert keys_from_notification(body) == ("nianbao", ["inbox/a/2023/x 1.pdf", "inbox/b/2023/y.pdf"])
