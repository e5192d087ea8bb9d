"""End-to-end fixtures: a real S3 API (moto server, or NIANBAO_TEST_S3_ENDPOINT), per-test buckets."""

from tests.e2e.fixtures import s3_endpoint, settings, store  # noqa: F401
