"""The bucket behind a tiny protocol, and its one implementation: boto3 over HTTP.

Every environment (AWS S3, MinIO, Ceph RGW, OSS in production; a moto server in tests and the
demo) goes through :class:`S3Store`, chosen only by the endpoint in the settings, so the code the
tests exercise is the code production runs. botocore's exceptions stop here: callers see
:class:`~nianbao.errors.TransientError` (retry may help: timeouts, 5xx, throttling),
:class:`~nianbao.errors.ConfigError` (bucket or credentials wrong: fix the settings) or
:class:`~nianbao.errors.TerminalError` (anything else), so Prefect retries only what can heal.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from nianbao.errors import ConfigError, NianbaoError, StoreUnreachable, TerminalError, TransientError

if TYPE_CHECKING:
    from nianbao.config import Settings

_TRANSIENT_CODES = {
    "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "Throttling",
    "ThrottlingException", "RequestTimeTooSkewed", "OperationAborted", "503", "500", "502", "504",
}
_CONFIG_CODES = {
    "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "InvalidBucketName", "AllAccessDisabled", "PermanentRedirect", "AuthorizationHeaderMalformed",
}


class ObjectGone(TerminalError):
    """The object was listed but is no longer there (deleted or replaced in between)."""


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One object as a listing shows it: enough to decide whether it is new."""

    key: str
    etag: str
    size: int
    last_modified: datetime
    version_id: str | None = None


@dataclass(slots=True)
class StoredObject:
    """One object's bytes with the identity of exactly the version that was read."""

    key: str
    data: bytes
    etag: str
    last_modified: datetime
    version_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


class ObjectStore(Protocol):
    """What the pipeline needs from a bucket."""

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectRef]:
        """Objects under ``prefix`` in key order, page by page (never the whole listing at once)."""
        ...

    def head(self, key: str) -> ObjectRef | None:
        """The object's identity, or ``None`` if it does not exist."""
        ...

    def get(self, key: str) -> StoredObject:
        """The object's bytes and metadata; raises :class:`ObjectGone` if it vanished."""
        ...

    def metadata(self, key: str) -> dict[str, str] | None:
        """The object's user metadata (``x-amz-meta-*``, names lower-cased), or ``None`` if absent."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """Just the bytes."""
        ...

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        if_none_match: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> bool:
        """Write an object; with ``if_none_match`` only if absent. True if this call wrote it."""
        ...


def _etag(raw: str | None) -> str:
    return (raw or "").strip('"')


def translate(exc: Exception, what: str) -> Exception:
    """The nianbao error for a botocore exception raised while doing ``what``."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        HTTPClientError,
        IncompleteReadError,
        NoCredentialsError,
        PartialCredentialsError,
        ResponseStreamingError,
    )
    from botocore.exceptions import (
        ConnectionError as BotoConnectionError,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ConfigError(f"{what}: no S3 credentials; set NIANBAO_S3__ACCESS_KEY_ID/_SECRET_ACCESS_KEY")
    if isinstance(exc, ResponseStreamingError | IncompleteReadError):
        return TransientError(f"{what}: the connection broke off while reading the object ({exc})")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):  # nothing answers at all
        return StoreUnreachable(f"{what}: cannot reach the S3 endpoint ({exc}); is it running?")
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return TransientError(f"{what}: the connection to the S3 endpoint failed ({exc})")
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in ("NoSuchKey", "404", "NotFound"):
            return ObjectGone(f"{what}: object not found")
        if code in _CONFIG_CODES or status in (301, 403):
            return ConfigError(f"{what}: {code} ({err.get('Message', '')}); check the bucket name, "
                               "endpoint and credentials in the settings")
        if code in _TRANSIENT_CODES or status >= 500 or status == 429:
            return TransientError(f"{what}: {code or status}, retry later")
        return TerminalError(f"{what}: {code or status} {err.get('Message', '')}")
    return TerminalError(f"{what}: {type(exc).__name__}: {exc}")


@cache
def _session() -> Any:
    """One boto3 session per process: its loader caches the parsed S3 service model, which costs
    150-400 ms to build per session. Clients are created from it on one thread at a time."""
    import boto3

    return boto3.session.Session()


class S3Store:
    """:class:`ObjectStore` over boto3, path-style, against any S3-compatible endpoint."""

    def __init__(self, bucket: str, client: Any, page_size: int = 1000, max_attempts: int = 4) -> None:
        self.bucket = bucket
        self.client = client
        self.max_attempts = max(0, max_attempts)
        """Retries of a GET whose body breaks off mid-way (botocore's own retries cover the requests)."""
        self.page_size = page_size
        """Keys per ListObjectsV2 page (1,000 is the S3 maximum)."""
        self._conditional_put = True

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        """A store for the configured bucket and endpoint."""
        from botocore.config import Config

        s3 = settings.s3
        config = Config(
            s3={"addressing_style": s3.addressing_style},
            retries={"max_attempts": s3.max_attempts, "mode": "standard"},
            connect_timeout=s3.connect_timeout,
            read_timeout=s3.read_timeout,
            max_pool_connections=16,
            # Older RGW and OSS reject the flexible checksums botocore now sends by default.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = _session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=s3.region,
            aws_access_key_id=s3.access_key_id.get_secret_value() if s3.access_key_id else None,
            aws_secret_access_key=s3.secret_access_key.get_secret_value() if s3.secret_access_key else None,
            config=config,
        )
        return cls(s3.bucket, client, max_attempts=s3.max_attempts)

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (demo and tests; production buckets pre-exist)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise translate(exc, f"head bucket {self.bucket}") from exc
        except BotoCoreError as exc:
            raise translate(exc, f"head bucket {self.bucket}") from exc
        try:
            self.client.create_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"create bucket {self.bucket}") from exc

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectRef]:
        """Objects under ``prefix`` in key order, streamed one ListObjectsV2 page at a time."""
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        pages = self.client.get_paginator("list_objects_v2").paginate(
            **kwargs, PaginationConfig={"PageSize": self.page_size})
        try:
            for page in pages:
                for obj in page.get("Contents", ()):
                    yield ObjectRef(obj["Key"], _etag(obj.get("ETag")), int(obj.get("Size", 0)),
                                    obj["LastModified"])
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"list s3://{self.bucket}/{prefix}") from exc

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)  # type: ignore[no-any-return]
        except (ClientError, BotoCoreError) as exc:
            err = translate(exc, f"head s3://{self.bucket}/{key}")
            if isinstance(err, ObjectGone):
                return None
            raise err from exc

    def metadata(self, key: str) -> dict[str, str] | None:
        """The object's user metadata (``x-amz-meta-*``, names lower-cased), or ``None`` if absent."""
        r = self._head(key)
        return None if r is None else {k.lower(): v for k, v in (r.get("Metadata") or {}).items()}

    def head(self, key: str) -> ObjectRef | None:
        """The object's identity, or ``None`` if absent."""
        r = self._head(key)
        if r is None:
            return None
        return ObjectRef(key, _etag(r.get("ETag")), int(r.get("ContentLength", 0)), r["LastModified"],
                         r.get("VersionId"))

    def get(self, key: str) -> StoredObject:
        """The object's bytes and the identity of the version read."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            IncompleteReadError,
            ResponseStreamingError,
        )

        for attempt in range(self.max_attempts + 1):  # like botocore: the first read plus retries
            try:
                r = self.client.get_object(Bucket=self.bucket, Key=key)
                data = r["Body"].read()
                break
            except (ResponseStreamingError, IncompleteReadError) as exc:
                # botocore retries requests, not the reading of a body cut off mid-way: do it here
                if attempt >= self.max_attempts:
                    raise translate(exc, f"get s3://{self.bucket}/{key}") from exc
                time.sleep(min(0.1 * 2 ** attempt, 2.0))
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, f"get s3://{self.bucket}/{key}") from exc
        meta = {k.lower(): v for k, v in (r.get("Metadata") or {}).items()}
        return StoredObject(key, data, _etag(r.get("ETag")), r["LastModified"], r.get("VersionId"), meta,
                            r.get("ContentType"))

    def get_bytes(self, key: str) -> bytes:
        """Just the bytes of ``key``."""
        return self.get(key).data

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        if_none_match: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> bool:
        """Write ``key``. With ``if_none_match`` the write is create-only (``If-None-Match: *``);
        on servers without conditional PUT (Swift) it degrades to HEAD-then-PUT."""
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": data, "ContentType": content_type}
        if metadata:
            kwargs["Metadata"] = metadata
        if if_none_match and not self._conditional_put and self.head(key) is not None:
            return False
        if if_none_match and self._conditional_put:
            kwargs["IfNoneMatch"] = "*"
        try:
            self.client.put_object(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            if code == "NotImplemented" and if_none_match and self._conditional_put:
                self._conditional_put = False
                return self.put(key, data, content_type, if_none_match, metadata)
            raise translate(exc, f"put s3://{self.bucket}/{key}") from exc
        except BotoCoreError as exc:
            raise translate(exc, f"put s3://{self.bucket}/{key}") from exc
        return True


Fetched = StoredObject | None | NianbaoError
"""What :func:`prefetch` yields per object: its bytes, ``None`` if it vanished, or why the GET failed."""


def prefetch(store: ObjectStore, refs: Iterable[ObjectRef], window: int = 4) -> Iterator[tuple[ObjectRef, Fetched]]:
    """``(ref, object)`` in order, downloading up to ``window`` objects ahead in threads.

    Checking is CPU-bound and a GET is ~10 ms of waiting, so overlapping them nearly halves a
    chunk's time; the window bounds memory to a few files, never a whole chunk. A GET that fails
    (after botocore's retries) is yielded as its error, so one bad object never stops the others.
    """

    def fetch(ref: ObjectRef) -> Fetched:
        try:
            return store.get(ref.key)
        except ObjectGone:
            return None
        except NianbaoError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, window), thread_name_prefix="nianbao-get") as pool:
        pending: deque[tuple[ObjectRef, Future[Fetched]]] = deque()
        for ref in refs:
            pending.append((ref, pool.submit(fetch, ref)))
            if len(pending) > window:
                head, fut = pending.popleft()
                yield head, fut.result()
        while pending:
            head, fut = pending.popleft()
            yield head, fut.result()


def put_all(store: ObjectStore, puts: list[Callable[[], bool]], workers: int = 8) -> list[bool | NianbaoError]:
    """Run independent writes concurrently (notices: two small PUTs each); results in order, a failed
    write as its error so the others still land."""

    def attempt(put: Callable[[], bool]) -> bool | NianbaoError:
        try:
            return put()
        except NianbaoError as exc:
            return exc

    if len(puts) <= 1:
        return [attempt(p) for p in puts]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nianbao-put") as pool:
        return list(pool.map(attempt, puts))
