"""The photos app in-process (Chalice test client) over real photo sidecar subprocesses.

The sidecars use the real PostgreSQL and Redis; S3 is LocalStack's. The function finds its
sidecar through the real Consul agent (each test sidecar registers under a name of its own)
and calls it as photostack-photos, with its Connect certificate and the caller's token.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from chalice.test import Client
from photos import bootstrap
from photostack.config import get_settings
from photostack.discovery import reset_resolvers
from photostack.photo_client import reset_photo_client
from photostack.rpc import reset_channels
from photostack.tokens import issue_access_token

from infra.db.migrate import migrate
from tests.apps import load_app
from tests.identity import use_identity
from tests.sidecar_process import CONSUL_ADDR, SidecarProcess

# Buckets of the tests' own: the stack's uploads bucket notifies the deployed upload
# function, which would process (and fail) the tests' fake images behind their back.
TEST_BUCKETS = {
    "PHOTOSTACK_UPLOADS_BUCKET": "photostack-test-uploads",
    "PHOTOSTACK_DERIVATIVES_BUCKET": "photostack-test-derivatives",
}
S3_ENV = {
    **TEST_BUCKETS,
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def photos_schema(database_url: str) -> None:
    migrate(database_url, ["photos", "transactions"])  # the sidecar reads the entitlements view


@pytest.fixture(scope="session")
def static_sidecar(photos_schema: None) -> Iterator[SidecarProcess]:
    proc = SidecarProcess(register=True, service=f"photo-sidecar-test-{uuid.uuid4().hex[:8]}").start()
    yield proc
    proc.stop()


def reset_clients() -> None:
    bootstrap.reset()
    reset_photo_client()
    reset_resolvers()
    reset_channels()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.client("s3", endpoint_url=S3_ENV["AWS_ENDPOINT_URL"], region_name="us-east-1")
    settings = get_settings()
    for bucket in (settings.uploads_bucket, settings.derivatives_bucket):
        s3.create_bucket(Bucket=bucket)
    # Versioned like the stack's uploads bucket (template.yaml).
    s3.put_bucket_versioning(Bucket=settings.uploads_bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


class Api:
    def __init__(self, client: Client) -> None:
        self._client = client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        h = {"Content-Type": "application/json", **(headers or {})}
        if user is not None:
            h["Authorization"] = "Bearer " + issue_access_token(*user)[0]
        payload = json.dumps(body) if body is not None else None
        r = getattr(self._client.http, method.lower())(path, headers=h, body=payload)
        text = r.body.decode() if isinstance(r.body, bytes) else r.body
        return Reply(
            r.status_code, {k.lower(): v for k, v in r.headers.items()}, json.loads(text) if text else None
        )


@pytest.fixture
def api_for(monkeypatch: pytest.MonkeyPatch, s3_env: Any):  # type: ignore[no-untyped-def]
    """An Api whose function finds the sidecar registered as ``service`` in Consul."""
    apps: list[Client] = []

    def make(*, service: str) -> Api:
        use_identity(monkeypatch, "photostack-photos", CONSUL_ADDR)
        monkeypatch.setenv("PHOTOSTACK_SIDECAR_SERVICE", service)
        monkeypatch.setenv("PHOTOSTACK_GRPC_DEADLINE_MS", "1500")
        get_settings.cache_clear()
        reset_clients()
        client = Client(load_app("photos"))
        apps.append(client)
        return Api(client.__enter__())

    yield make
    for client in apps:
        client.__exit__(None, None, None)
    reset_clients()


@pytest.fixture
def api(api_for, static_sidecar: SidecarProcess) -> Api:  # type: ignore[no-untyped-def]
    return api_for(service=static_sidecar.service)
