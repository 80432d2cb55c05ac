"""The users flows end to end: HTTP through LocalStack's API Gateway to the deployed function."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest
import requests
from photostack.account_status import KEY_PREFIX
from users import admin as admin_cli

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new phrase"
TIMEOUT = 30
EVERYWHERE_401 = {"users": 401, "photos": 401, "transactions": 401}


@pytest.fixture(scope="module")
def base(stack: dict[str, str]) -> str:
    return stack["UsersApiUrl"].rstrip("/")


def register(base: str, role: str = "customer") -> dict[str, Any]:
    email = f"E2E-{uuid.uuid4().hex[:12]}@Example.com"
    r = requests.post(f"{base}/auth/register", json={"email": email, "password": PASSWORD,
                                                     "display_name": "End To End", "role": role},
                      timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return dict(r.json())


def login(base: str, email: str) -> dict[str, Any]:
    r = requests.post(f"{base}/auth/login", json={"email": email, "password": PASSWORD}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return dict(r.json())


def auth(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_error(r: requests.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == code


def test_register_login_me_refresh_reuse_logout(base: str) -> None:
    user = register(base, role="photographer")
    tokens = login(base, user["email"].lower())

    me = requests.get(f"{base}/users/me", headers=auth(tokens), timeout=TIMEOUT)
    assert me.status_code == 200 and me.json()["email"] == user["email"]
    public = requests.get(f"{base}/users/{user['id']}", timeout=TIMEOUT).json()
    assert public == {"id": user["id"], "display_name": "End To End", "role": "photographer"}

    rotated = requests.post(f"{base}/auth/refresh", json={"refresh_token": tokens["refresh_token"]},
                            timeout=TIMEOUT)
    assert rotated.status_code == 200
    new = rotated.json()
    assert requests.get(f"{base}/users/me", headers=auth(new), timeout=TIMEOUT).status_code == 200

    reuse = requests.post(f"{base}/auth/refresh", json={"refresh_token": tokens["refresh_token"]},
                          timeout=TIMEOUT)
    assert_error(reuse, 401, "refresh_token_reused")
    assert_error(requests.post(f"{base}/auth/refresh", json={"refresh_token": new["refresh_token"]},
                               timeout=TIMEOUT), 401, "invalid_refresh_token")

    other = login(base, user["email"])
    out = requests.post(f"{base}/auth/logout", json={"refresh_token": other["refresh_token"]},
                        timeout=TIMEOUT)
    assert out.status_code == 204
    assert_error(requests.post(f"{base}/auth/refresh", json={"refresh_token": other["refresh_token"]},
                               timeout=TIMEOUT), 401, "invalid_refresh_token")


def test_bad_input_through_the_gateway(base: str) -> None:
    json_type = {"Content-Type": "application/json"}
    assert_error(requests.post(f"{base}/auth/login", data="{nope", headers=json_type, timeout=TIMEOUT),
                 400, "invalid_json")
    assert_error(requests.post(f"{base}/auth/register", json={"email": "bad", "password": PASSWORD,
                                                              "display_name": "x", "role": "customer"},
                               timeout=TIMEOUT), 400, "validation_error")
    assert_error(requests.post(f"{base}/auth/register", data="x" * 20_000,
                               headers={"Content-Type": "application/json"}, timeout=TIMEOUT),
                 413, "payload_too_large")
    none_token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0."
    assert_error(requests.get(f"{base}/users/me", headers={"Authorization": f"Bearer {none_token}"},
                              timeout=TIMEOUT), 401, "invalid_token")
    assert_error(requests.get(f"{base}/users/me", timeout=TIMEOUT), 401, "missing_token")
    wrong = requests.post(f"{base}/auth/login", json={"email": "nobody@example.com", "password": "whatever1"},
                          timeout=TIMEOUT)
    assert_error(wrong, 401, "invalid_credentials")


def signed_in_everywhere(stack: dict[str, str], tokens: dict[str, Any]) -> dict[str, int]:
    """The status of one signed-in read on each API: every function checks the account status."""
    return {
        "users": requests.get(f"{stack['UsersApiUrl'].rstrip('/')}/users/me", headers=auth(tokens),
                              timeout=TIMEOUT).status_code,
        "photos": requests.get(f"{stack['PhotosApiUrl'].rstrip('/')}/events", headers=auth(tokens),
                               timeout=TIMEOUT).status_code,
        "transactions": requests.get(f"{stack['TransactionsApiUrl'].rstrip('/')}/wallet",
                                     headers=auth(tokens), timeout=TIMEOUT).status_code,
    }


def wait_for_everywhere(stack: dict[str, str], tokens: dict[str, Any], status: int) -> dict[str, int]:
    # Another warm environment may hold the old status for its cache period (2 s).
    deadline = time.monotonic() + 6
    while True:
        seen = signed_in_everywhere(stack, tokens)
        if set(seen.values()) == {status} or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def test_admin_disables_an_account(base: str, stack: dict[str, str], redis_client: Any) -> None:
    admin = register(base)
    assert admin_cli.main(["promote", admin["email"]]) == 0
    admin_tokens = login(base, admin["email"])
    user = register(base)
    tokens = login(base, user["email"])
    other_session = login(base, user["email"])
    assert signed_in_everywhere(stack, tokens) == {"users": 200, "photos": 200, "transactions": 200}

    r = requests.patch(f"{base}/admin/users/{user['id']}", json={"disabled": True},
                       headers=auth(admin_tokens), timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["disabled"] is True
    # Another warm container may hold the old status for its cache period (2 s).
    deadline = time.monotonic() + 5
    while True:
        me = requests.get(f"{base}/users/me", headers=auth(tokens), timeout=TIMEOUT)
        if me.status_code == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert_error(me, 401, "account_disabled")
    assert wait_for_everywhere(stack, other_session, 401) == EVERYWHERE_401
    # Redis is only a cache: with the account's entry evicted, every deployed function reads
    # PostgreSQL and still refuses (a restart or FLUSHALL of the shared Redis would do the same).
    assert redis_client.delete(KEY_PREFIX + user["id"]) == 1
    time.sleep(2.5)  # past every environment's 2 s in-process cache
    assert signed_in_everywhere(stack, other_session) == EVERYWHERE_401
    assert redis_client.get(KEY_PREFIX + user["id"]) is not None  # a miss refilled the cache
    # Disabling also revoked every refresh family of the account.
    for session in (tokens, other_session):
        assert_error(requests.post(f"{base}/auth/refresh", json={"refresh_token": session["refresh_token"]},
                                   timeout=TIMEOUT), 401, "invalid_refresh_token")


def test_a_password_change_ends_every_session_on_every_api(base: str, stack: dict[str, str]) -> None:
    user = register(base)
    tokens, other_session = login(base, user["email"]), login(base, user["email"])
    assert signed_in_everywhere(stack, other_session) == {"users": 200, "photos": 200, "transactions": 200}
    r = requests.patch(f"{base}/users/me", json={"password": NEW_PASSWORD, "current_password": PASSWORD},
                       headers=auth(tokens), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    for session in (tokens, other_session):
        assert wait_for_everywhere(stack, session, 401) == EVERYWHERE_401
        assert_error(requests.get(f"{base}/users/me", headers=auth(session), timeout=TIMEOUT), 401,
                     "token_revoked")
        assert_error(requests.post(f"{base}/auth/refresh", json={"refresh_token": session["refresh_token"]},
                                   timeout=TIMEOUT), 401, "invalid_refresh_token")
    fresh = requests.post(f"{base}/auth/login", json={"email": user["email"], "password": NEW_PASSWORD},
                          timeout=TIMEOUT)
    assert fresh.status_code == 200
    assert signed_in_everywhere(stack, fresh.json()) == {"users": 200, "photos": 200, "transactions": 200}


def test_a_burst_of_wrong_passwords_gets_at_most_the_limit_through(base: str) -> None:
    """20 parallel guesses through API Gateway (several function environments at once): the
    deployed per-account limit is 10 failures per window, so at most 10 are checked."""
    user = register(base)
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def guess() -> None:
        barrier.wait()
        r = requests.post(f"{base}/auth/login", json={"email": user["email"], "password": "wrong guess!"},
                          timeout=60)
        with lock:
            outcomes[r.status_code] += 1

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(outcomes) <= {401, 429} and outcomes[401] <= 10 and sum(outcomes.values()) == 20, outcomes
    assert outcomes[401] + outcomes[429] == 20
    locked = requests.post(f"{base}/auth/login", json={"email": user["email"], "password": PASSWORD},
                           timeout=TIMEOUT)
    assert_error(locked, 429, "too_many_attempts")
    assert int(locked.headers["Retry-After"]) >= 1


def test_deeply_nested_json_is_a_400_on_every_api(base: str, stack: dict[str, str]) -> None:
    photographer = register(base, role="photographer")
    tokens = login(base, photographer["email"])
    thousand = '{"a":' * 1000 + "1" + "}" * 1000  # 6 KB: under every body limit
    twenty_thousand = "[" * 20_000 + "]" * 20_000  # 40 KB: json.loads raised RecursionError -> 500
    headers = {"Content-Type": "application/json", **auth(tokens)}
    targets = [
        (f"{base}/auth/login", [thousand]),
        (f"{base}/auth/register", [thousand]),
        (f"{stack['PhotosApiUrl'].rstrip('/')}/events", [thousand, twenty_thousand]),
        (f"{stack['TransactionsApiUrl'].rstrip('/')}/orders", [thousand, twenty_thousand]),
    ]
    for url, bodies in targets:
        for body in bodies:
            r = requests.post(url, data=body, timeout=TIMEOUT,
                              headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            assert_error(r, 400, "json_too_deep")
