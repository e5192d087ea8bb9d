"""Configuration: one typed object, read once at the edge (CLI, flows) and passed down.

Every setting has a default that works with nothing configured (a local data directory, a bucket
named ``nianbao``, the endpoint boto3 would pick). Environment names are ``NIANBAO_<FIELD>`` and
``NIANBAO_<SECTION>__<FIELD>`` for nested ones (``NIANBAO_S3__BUCKET``); a ``.env`` file in the
working directory is read too (see ``.env.example``). The standard ``AWS_ENDPOINT_URL`` is
honoured when ``NIANBAO_S3__ENDPOINT_URL`` is not set, so the same code talks to AWS S3, MinIO,
Ceph RGW or OSS by configuration only. No module below this one reads ``os.environ``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class S3Settings(BaseModel):
    """Where the shared bucket lives and how to reach it."""

    bucket: str = "nianbao"
    endpoint_url: str | None = None
    """``http(s)://host:port`` of an S3-compatible endpoint; ``None`` means AWS_ENDPOINT_URL, then AWS."""
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    """``None`` lets boto3 find credentials itself (AWS_* variables, profile, instance role)."""
    secret_access_key: SecretStr | None = None
    addressing_style: str = "path"
    """Path-style works on every S3-compatible server (MinIO, Ceph, moto); AWS accepts it too."""
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = Field(default=4, ge=1, le=20)
    """botocore's retries after the first request (standard mode: exponential backoff with jitter,
    for 5xx, throttling, timeouts and dropped connections) before an error reaches the pipeline."""
    inbox_prefix: str = "inbox/"
    outbox_prefix: str = "outbox/"
    registry_key: str = "registry/agencies.csv"


class SmtpSettings(BaseModel):
    """Optional e-mail delivery of notices; off while ``host`` is unset."""

    host: str | None = None
    port: int = 25
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "nianbao@localhost"
    starttls: bool = False
    send_attempts: int = Field(default=5, ge=1, le=100)
    """Tries to e-mail a notice when the server fails for now (down, timeout, 4xx); a refusal (5xx,
    a failed login) is final at once. The bucket copy is the record either way."""
    retry_after: float = Field(default=60.0, ge=0)
    """Seconds before the first retry of such an e-mail; each later wait is four times longer
    (1, 4, 16, 64 minutes by default), and a retry happens on the first run after it is due."""


class LimitSettings(BaseModel):
    """What one upload may cost, and how often a failing one is tried before it is answered."""

    max_upload_mb: float = Field(default=50, gt=0)
    """Uploads larger than this are answered ``failed`` from their listed size, never downloaded."""
    isolate: bool = True
    """Parse each file in a worker process (time and memory capped; a crash costs only that file)."""
    parse_workers: int = Field(default=0, ge=0, le=64)
    """Worker processes parsing at once; 0 means one per core (at most four)."""
    parse_timeout: float = Field(default=60.0, gt=0)
    """Seconds one file may take to read before it is answered as unreadable."""
    parse_memory_mb: int = Field(default=2048, ge=0)
    """Address-space cap of a parsing worker (0: no cap)."""
    upload_attempts: int = Field(default=3, ge=1, le=100)
    """Runs that may fail to download an upload (after botocore's own retries) before it is
    answered ``failed`` with a notice; until then it is simply tried again on the next run."""


class Settings(BaseSettings):
    """Everything the pipeline, the flows and the pipeline CLI commands need."""

    model_config = SettingsConfigDict(
        env_prefix="NIANBAO_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Path("nianbao-data")
    """Working directory for the warehouse, its snapshot and local copies of notices."""
    warehouse_path: Path | None = None
    """The live DuckDB file; default ``<data_dir>/nianbao.duckdb``. Only the loader opens it."""
    snapshot_path: Path | None = None
    """The analysts' read-only copy; default ``<warehouse_path stem>.snapshot.duckdb`` beside it."""
    chunk_size: int = Field(default=100, ge=1, le=10_000)
    """Uploads per Prefect task and per warehouse transaction: big enough that Prefect's 13-18 ms
    per task and DuckDB's ~40 ms per connection vanish, small enough that a chunk's reports fit in
    memory comfortably and a crash redoes little."""
    registry_path: Path | None = None
    """A local ``agencies.csv``; when unset the bucket's ``registry/agencies.csv`` is used if present."""
    local_deadline: str | None = None
    """``MM-DD`` (of year Y+1) for agencies the 条例 sets no deadline for (towns, streets)."""
    s3: S3Settings = Field(default_factory=S3Settings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    aws_endpoint_url: str | None = Field(
        default=None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    )
    """The AWS SDKs' standard endpoint variable; used when ``s3.endpoint_url`` is unset."""

    @field_validator("local_deadline")
    @classmethod
    def _deadline_shape(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", v):
            raise ValueError("local_deadline must be MM-DD, e.g. 03-31")
        return v

    @property
    def endpoint_url(self) -> str | None:
        """The S3 endpoint to use: ours, else ``AWS_ENDPOINT_URL``, else boto3's default (AWS)."""
        return self.s3.endpoint_url or self.aws_endpoint_url

    @property
    def warehouse(self) -> Path:
        """Path of the live warehouse file."""
        return self.warehouse_path or self.data_dir / "nianbao.duckdb"

    @property
    def snapshot(self) -> Path:
        """Path of the read-only snapshot analysts query."""
        if self.snapshot_path is not None:
            return self.snapshot_path
        wh = self.warehouse
        return wh.with_name(f"{wh.stem}.snapshot{wh.suffix or '.duckdb'}")

    @property
    def smtp_enabled(self) -> bool:
        """True when notices should also be e-mailed."""
        return bool(self.smtp.host)
