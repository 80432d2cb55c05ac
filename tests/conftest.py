"""Shared fixtures: real PostgreSQL, Redis and the deployed stack.

`make test` starts the services first (infra/services.sh up); these fixtures only
connect, and fail loudly when a service is missing instead of skipping.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))

from photostack.config import get_settings, reset_settings  # noqa: E402
from photostack.db import Database  # noqa: E402

from tests.made_events import MadeEvents  # noqa: E402

STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    reset_settings()
    _forget_function_settings()
    yield
    reset_settings()
    _forget_function_settings()


def _transactions_config() -> Any:
    """The transactions function's config module if this process loaded it (benches and scripts
    import this file without the functions on their path; an unloaded module cached nothing)."""
    return sys.modules.get("transactions.config")


def _forget_function_settings() -> None:
    config = _transactions_config()
    if config is not None:
        config.get_settings.cache_clear()


@pytest.fixture(scope="session")
def database_url() -> str:
    """Through PgBouncer in transaction mode, as the functions and the sidecars connect."""
    from photostack.config import local_database_url

    return os.environ.get("PHOTOSTACK_DATABASE_URL", local_database_url())


@pytest.fixture(scope="session")
def redis_client():  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(get_settings().redis_url)
    client.ping()
    return client


@pytest.fixture
def made_events(database_url: str) -> Iterator[MadeEvents]:
    """Events a test makes ready without uploading (tests/made_events.py), removed when it ends."""
    made = MadeEvents()
    yield made
    made.remove(database_url)


def make_database(database_url: str, schema: str, maxconn: int = 8) -> Database:
    return Database(database_url, schema=schema, maxconn=maxconn)


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    """Outputs of the CloudFormation stack that `make deploy` created in LocalStack."""
    if not STACK_OUTPUTS.exists():
        pytest.fail("the stack is not deployed: run `make up` (or `make test`, which deploys)")
    return json.loads(STACK_OUTPUTS.read_text())


def forget_stack_secrets() -> None:
    """Drop this process's cached JWT keys and webhook secret.

    A LocalStack restart recreates the stack and with it its generated secrets (Secrets Manager
    is not kept across restarts): a client that cached the old ones must read them again, as a
    warm function environment would after its max age. Tests that restart LocalStack call this.
    """
    from photostack import tokens

    tokens.signing_keys.reset()
    config = _transactions_config()
    if config is not None:
        config.payment_webhook.reset()


def aws_client(service: str, config: Any = None) -> Any:
    """A boto3 client for LocalStack (the endpoint the stack was deployed to); ``config``: a
    botocore ``Config`` (timeouts, retries)."""
    import boto3

    client: Any = boto3.client
    endpoint = os.environ.get("PHOTOSTACK_AWS_ENDPOINT", "http://127.0.0.1:4566")
    return client(service, endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test", config=config)
