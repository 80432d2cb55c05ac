"""Fixtures for the users function against the real PostgreSQL and Redis.

Each test gets a freshly built service (cheap argon2 parameters, small throttle
limits) installed in the function's composition root, and a client address of its
own so that per-address login counters never leak between tests.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from chalice.local import LambdaEventConverter
from chalice.test import Client
from photostack.account_status import reset_account_status
from photostack.tokens import signing_keys
from users import bootstrap
from users.config import UsersSettings
from users.services import UsersService

from infra.db.migrate import migrate
from tests.apps import load_app
from tests.signing_keys import install_keys

FAST = UsersSettings(argon2_time_cost=1, argon2_memory_kib=8 * 1024, argon2_parallelism=1,
                     login_max_failures_per_account=3, login_max_failures_per_ip=6, login_window_s=60,
                     max_body_bytes=8 * 1024, registrations_per_ip=20, registration_window_s=60)
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def users_schema(database_url: str) -> None:
    migrate(database_url, ["users"])


@pytest.fixture
def service(users_schema: None) -> Iterator[UsersService]:
    # The users service issues and verifies its tokens in this process: keys of the test's
    # own, so these tests need PostgreSQL and Redis only (not the secret store).
    install_keys()
    svc = bootstrap.build(FAST)
    bootstrap.reset(svc)
    yield svc
    bootstrap.reset(None)
    reset_account_status(None)
    signing_keys.reset()
    svc._db.close()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


class Api:
    """The users app through Chalice's in-process API Gateway emulation."""

    password = PASSWORD

    def __init__(self, client: Client) -> None:
        self._client = client

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             raw: str | bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        r = getattr(self._client.http, method.lower())(path, headers=headers, body=payload)
        text = r.body.decode() if isinstance(r.body, bytes) else r.body
        return Reply(r.status_code, {k.lower(): v for k, v in r.headers.items()},
                     json.loads(text) if text else None)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, body, **kw)

    # --- flows ---

    def register(self, *, role: str = "customer", email: str | None = None) -> dict[str, Any]:
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        r = self.post("/auth/register", {"email": email, "password": PASSWORD, "display_name": "Test User",
                                         "role": role})
        assert r.status == 201, r.body
        return dict(r.body)

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        r = self.post("/auth/login", {"email": email, "password": password})
        assert r.status == 200, r.body
        return dict(r.body)


@pytest.fixture
def api(service: UsersService, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    ip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ip)
    with Client(load_app("users")) as client:
        yield Api(client)


@pytest.fixture
def admin(api: Api, service: UsersService) -> dict[str, Any]:
    """A signed-in admin, promoted the way an operator would (`python -m users.admin`)."""
    user = api.register()
    service.grant_role(user["email"], "admin")
    return api.login(user["email"])


@pytest.fixture
def db_snapshot(service: UsersService) -> Callable[[], tuple[Any, ...]]:
    return lambda: snapshot(service)


def snapshot(service: UsersService) -> tuple[Any, ...]:
    """Everything the users schema holds, to prove that a refused request changed nothing."""
    with service._db.cursor() as cur:
        parts = []
        for table, order in (("users", "id"), ("refresh_families", "id"), ("refresh_tokens", "token_hash")):
            cur.execute(f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY {order}), ''))"
                        f" AS h FROM {table} t")
            row = cur.fetchone()
            parts.append((table, row["n"], row["h"]))
        return tuple(parts)


class OwnRedis:
    """A redis-server of the test's own on a free port: it can be flushed, stopped and
    restarted without disturbing the shared Redis that everyone else's tests use."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._cmd = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                     "--appendonly", "no", "--loglevel", "warning"]
        self._proc: subprocess.Popen[bytes] | None = None
        self.client = redis.Redis.from_url(self.url)

    def start(self) -> None:
        self._proc = subprocess.Popen(self._cmd, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            self._proc = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()
