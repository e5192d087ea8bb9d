"""S3Store against a real S3 API over HTTP (moto, or NIANBAO_TEST_S3_ENDPOINT)."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from nianbao.config import Settings
from nianbao.errors import ConfigError, StoreUnreachable, TerminalError, TransientError
from nianbao.intake import local_s3
from nianbao.intake.store import ObjectGone, S3Store, translate


def test_put_get_head_round_trip_with_metadata(store: S3Store) -> None:
    assert store.put("inbox/a/2023/r.txt", "报告".encode(), "text/plain", metadata={"agency": "a", "year": "2023"})
    obj = store.get("inbox/a/2023/r.txt")
    assert obj.data == "报告".encode()
    assert obj.metadata == {"agency": "a", "year": "2023"}
    head = store.head("inbox/a/2023/r.txt")
    assert head is not None and head.etag == obj.etag and head.size == len(obj.data)
    assert '"' not in obj.etag


def test_head_of_a_missing_key_is_none_and_get_raises_object_gone(store: S3Store) -> None:
    assert store.head("inbox/nope") is None
    with pytest.raises(ObjectGone):
        store.get("inbox/nope")


def test_create_only_put_does_not_overwrite(store: S3Store) -> None:
    assert store.put("outbox/a/2023/s.json", b"first", if_none_match=True)
    assert not store.put("outbox/a/2023/s.json", b"second", if_none_match=True)
    assert store.get_bytes("outbox/a/2023/s.json") == b"first"


def test_listing_streams_page_by_page_in_key_order_after_a_watermark(settings: Settings) -> None:
    store = S3Store.from_settings(settings)
    keys = [f"inbox/a/2023/f{i:02d}.txt" for i in range(7)]
    for k in reversed(keys):
        store.put(k, b"x")
    store.put("outbox/other.json", b"x")
    store.page_size = 2
    listed = store.list("inbox/")
    first = next(listed)
    assert first.key == keys[0]  # the first page arrives before the rest is fetched
    assert [first.key, *(r.key for r in listed)] == keys
    assert [r.key for r in store.list("inbox/", start_after=keys[3])] == keys[4:]


def test_missing_bucket_is_a_config_error(settings: Settings) -> None:
    bad = S3Store.from_settings(settings.model_copy(update={"s3": settings.s3.model_copy(update={"bucket": "nb-missing-bucket"})}))
    with pytest.raises(ConfigError, match="NoSuchBucket"):
        list(bad.list("inbox/"))


def test_unreachable_endpoint_is_store_unreachable() -> None:
    port = local_s3.free_port()
    s = Settings(s3={"endpoint_url": f"http://127.0.0.1:{port}", "bucket": "nb-x", "max_attempts": 1,
                     "connect_timeout": 0.5, "access_key_id": "k", "secret_access_key": "s"})
    with pytest.raises(StoreUnreachable, match="cannot reach"):
        S3Store.from_settings(s).head("inbox/a")


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_client_error("SlowDown", 503), TransientError),
        (_client_error("InternalError", 500), TransientError),
        (_client_error("Whatever", 502), TransientError),
        (_client_error("AccessDenied", 403), ConfigError),
        (_client_error("InvalidAccessKeyId", 403), ConfigError),
        (_client_error("NoSuchKey", 404), ObjectGone),
        (_client_error("InvalidArgument", 400), TerminalError),
        (EndpointConnectionError(endpoint_url="http://x"), StoreUnreachable),
        (ConnectTimeoutError(endpoint_url="http://x"), StoreUnreachable),
        (ConnectionClosedError(endpoint_url="http://x"), TransientError),
    ],
)
def test_botocore_errors_are_translated_at_the_boundary(exc: Exception, kind: type[Exception]) -> None:
    got = translate(exc, "doing it")
    assert type(got) is kind
    assert str(got).startswith("doing it")
