"""S3 fixtures (moto, or the endpoint in NIANBAO_TEST_S3_ENDPOINT) for the intake tests."""

from tests.e2e.fixtures import s3_endpoint, settings, store  # noqa: F401
