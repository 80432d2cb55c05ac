"""The users flows end to end: HTTP through LocalStack's API Gateway to the deployed function."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from users import admin as admin_cli

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
TIMEOUT = 30


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


def test_admin_disables_an_account(base: str) -> None:
    admin = register(base)
    assert admin_cli.main(["promote", admin["email"]]) == 0
    admin_tokens = login(base, admin["email"])
    user = register(base)
    tokens = login(base, user["email"])

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
    # Disabling also revoked every refresh family of the account.
    assert_error(requests.post(f"{base}/auth/refresh", json={"refresh_token": tokens["refresh_token"]},
                               timeout=TIMEOUT), 401, "invalid_refresh_token")
