"""The sidecar's service against the real PostgreSQL (schema photos) and Redis."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from photostack.db import Database

from sidecar.cache import PhotoCache
from sidecar.domain import Caller, NewEvent
from sidecar.repository import Repository
from sidecar.service import PhotoService
from tests.made_events import remove_events_of

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def photos_db(database_url: str) -> Iterator[Database]:
    spec = importlib.util.spec_from_file_location("photostack_migrate", ROOT / "infra" / "db" / "migrate.py")
    assert spec and spec.loader
    migrate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migrate)
    # The paywall reads who bought what from the transactions schema's entitlements view.
    migrate.migrate(database_url, ["photos", "transactions"])
    db = Database(database_url, schema="photos", maxconn=8)
    yield db
    db.close()


@pytest.fixture(scope="session")
def cache_redis(redis_client: redis.Redis) -> redis.Redis:
    return redis_client


@pytest.fixture
def cache(cache_redis: redis.Redis) -> PhotoCache:
    return PhotoCache(cache_redis, ttl_s=60)


@pytest.fixture
def service(photos_db: Database, cache: PhotoCache) -> PhotoService:
    return PhotoService(Repository(photos_db), cache)


@pytest.fixture
def owner(database_url: str) -> Iterator[Caller]:
    """A photographer of this test only: their events leave the database when it ends (their
    photos are ready with no object in S3, which make up's storage check would take for lost)."""
    caller = Caller(f"photographer-{uuid.uuid4().hex[:8]}", "photographer")
    yield caller
    remove_events_of(database_url, caller.user_id)


@pytest.fixture
def pipeline() -> Caller:
    return Caller("service:upload", "service")


@pytest.fixture
def event(service: PhotoService, owner: Caller):  # type: ignore[no-untyped-def]
    return service.create_event(owner, NewEvent("Race day", "2025-06-01", "Annecy", "public"))
