"""Against a real Ceph RADOS Gateway: push notifications reach the relay.

Runs only when ``NIANBAO_TEST_RGW=1`` and ``NIANBAO_TEST_S3_ENDPOINT`` point at RGW, as printed by
``eval "$(infra/ceph/start-rgw.sh)"`` (CI does this); everywhere else it is skipped with the
reason. moto cannot stand in: it delivers S3 notifications to SQS, not by HTTP push.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from nianbao.intake.events import UploadEvent
from nianbao.intake.relay import Relay, configure_rgw_notifications

ENDPOINT = os.environ.get("NIANBAO_TEST_S3_ENDPOINT", "")
pytestmark = [
    pytest.mark.rgw,
    pytest.mark.skipif(
        os.environ.get("NIANBAO_TEST_RGW") != "1" or not ENDPOINT,
        reason="needs a Ceph RGW: run eval \"$(infra/ceph/start-rgw.sh)\" to set NIANBAO_TEST_RGW=1 "
               "and NIANBAO_TEST_S3_ENDPOINT",
    ),
]


def _clients() -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    kw = {
        "endpoint_url": ENDPOINT,
        "aws_access_key_id": os.environ.get("NIANBAO_TEST_S3_ACCESS_KEY", "nianbao"),
        "aws_secret_access_key": os.environ.get("NIANBAO_TEST_S3_SECRET_KEY", "nianbao-secret"),
        "region_name": os.environ.get("NIANBAO_TEST_S3_REGION", "us-east-1"),
    }
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}), **kw)
    return s3, boto3.client("sns", **kw)


@pytest.fixture
def bucket() -> Iterator[tuple[Any, Any, str]]:
    s3, sns = _clients()
    name = f"nianbao-e2e-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    try:
        yield s3, sns, name
    finally:
        for obj in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=obj["Key"])
        s3.delete_bucket(Bucket=name)


def test_upload_under_inbox_reaches_the_relay(bucket: tuple[Any, Any, str]) -> None:
    s3, sns, name = bucket
    got: list[UploadEvent] = []
    arrived = threading.Event()

    def observe(ev: UploadEvent) -> None:
        got.append(ev)
        arrived.set()

    with Relay(callback=observe) as relay:
        topic = f"nianbao-e2e-{name[-10:]}"
        arn = configure_rgw_notifications(s3, sns, name, relay.url, topic_name=topic)
        try:
            s3.put_object(Bucket=name, Key="outbox/cangtai/2023/x.json", Body=b"{}")  # outside the prefix
            key = "inbox/cangtai/2023/年报 v1+final.txt"  # RGW sends keys unencoded: "+" must survive
            started = time.perf_counter()
            put = s3.put_object(Bucket=name, Key=key, Body=b"report bytes", Metadata={"agency": "cangtai"})
            assert arrived.wait(5), "no notification within 5 s"
            latency = time.perf_counter() - started
            time.sleep(0.3)  # would a second, unwanted event (the outbox object) still arrive?
        finally:
            sns.delete_topic(TopicArn=arn)
    (ev,) = got
    assert (ev.bucket, ev.key, ev.size, ev.etag) == (name, key, len(b"report bytes"), put["ETag"].strip('"'))
    assert ev.event_name.startswith("ObjectCreated")
    assert latency < 5
