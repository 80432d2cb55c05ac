"""Where photostack.secrets looks for the store (building a client does no I/O)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from photostack import secrets
from photostack.config import reset_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def fresh_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    secrets.secretsmanager.reset()
    yield
    secrets.secretsmanager.reset()


def test_a_local_process_outside_localstack_reads_localstack() -> None:
    client = secrets.secretsmanager.get()
    assert client.meta.endpoint_url == secrets.LOCALSTACK_ENDPOINT
    assert client.meta.region_name == "us-east-1"


def test_inside_localstack_or_on_aws_boto3_finds_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost.localstack.cloud:4566")
    reset_settings()  # the platform's variables are read once per process, as a cold start does
    assert secrets.secretsmanager.get().meta.endpoint_url == "http://localhost.localstack.cloud:4566"
    secrets.secretsmanager.reset()
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("PHOTOSTACK_ENV", "production")
    monkeypatch.setenv("PHOTOSTACK_DATABASE_URL", "postgresql://app:elsewhere-9f8e@db/photostack")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    reset_settings()
    assert secrets.secretsmanager.get().meta.endpoint_url == "https://secretsmanager.eu-west-1.amazonaws.com"
