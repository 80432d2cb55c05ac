"""The bad-input suite: every malformed or forged request is a clear 4xx JSON error
(never a 500, never a traceback) and leaves the users schema exactly as it was."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from photostack.config import get_settings
from photostack.tokens import signing_keys

pytestmark = pytest.mark.integration

Api = Any

ROUTES = ["/auth/register", "/auth/login", "/auth/refresh", "/auth/logout"]
VALID_REG = {"email": "valid@example.com", "password": "a long unusual phrase", "display_name": "V",
             "role": "customer"}


def expect_error(reply: Any, status: int, code: str | None = None) -> None:
    assert reply.status == status, reply.body
    assert set(reply.body) == {"error"} and {"code", "message"} <= set(reply.body["error"])
    assert "Traceback" not in json.dumps(reply.body)
    if code is not None:
        assert reply.body["error"]["code"] == code


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"a string"', "null", "", "\xff\xfe"])
def test_malformed_json_on_every_route(api: Api, db_snapshot: Any, route: str, raw: str) -> None:
    before = db_snapshot()
    expect_error(api.post(route, raw=raw.encode("latin-1")), 400, "invalid_json")
    assert db_snapshot() == before


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("raw", ['{"email":' + "[" * 1000 + "]" * 1000 + "}", "[" * 4000 + "]" * 4000])
def test_deeply_nested_json_on_every_route(api: Api, db_snapshot: Any, route: str, raw: str) -> None:
    before = db_snapshot()
    expect_error(api.post(route, raw=raw), 400, "json_too_deep")
    assert db_snapshot() == before


@pytest.mark.parametrize("route", ROUTES)
def test_oversized_bodies(api: Api, db_snapshot: Any, route: str) -> None:
    before = db_snapshot()
    body = json.dumps({**VALID_REG, "display_name": "x" * 9000})
    expect_error(api.post(route, raw=body), 413, "payload_too_large")
    assert db_snapshot() == before


@pytest.mark.parametrize("body,code", [
    ({k: v for k, v in VALID_REG.items() if k != "email"}, "validation_error"),
    ({k: v for k, v in VALID_REG.items() if k != "password"}, "validation_error"),
    ({**VALID_REG, "email": ["a@b.co"]}, "validation_error"),
    ({**VALID_REG, "password": 12345678}, "validation_error"),
    ({**VALID_REG, "display_name": None}, "validation_error"),
    ({**VALID_REG, "role": "admin"}, "validation_error"),
    ({**VALID_REG, "extra": 1}, "validation_error"),
    ({**VALID_REG, "email": "not-an-email"}, "validation_error"),
    ({**VALID_REG, "email": "a@b"}, "validation_error"),
    ({**VALID_REG, "email": "<script>@x.com"}, "validation_error"),
    ({**VALID_REG, "password": "short"}, "weak_password"),
    ({**VALID_REG, "password": "p" * 129}, "weak_password"),
    ({**VALID_REG, "password": "Password123"}, "weak_password"),
])
def test_bad_registrations(api: Api, db_snapshot: Any, body: dict[str, Any], code: str) -> None:
    before = db_snapshot()
    expect_error(api.post("/auth/register", body), 400, code)
    assert db_snapshot() == before


@pytest.mark.parametrize("body", [{}, {"email": "a@b.co"}, {"email": 1, "password": "x" * 10},
                                  {"email": "a@b.co", "password": None}, {"email": "a@b.co", "password": {}}])
def test_bad_login_bodies(api: Api, db_snapshot: Any, body: dict[str, Any]) -> None:
    before = db_snapshot()
    expect_error(api.post("/auth/login", body), 400, "validation_error")
    assert db_snapshot() == before


@pytest.mark.parametrize("route", ["/auth/refresh", "/auth/logout"])
@pytest.mark.parametrize("body", [{}, {"refresh_token": 1}, {"refresh_token": "short"},
                                  {"refresh_token": "x" * 43}])
def test_bad_refresh_tokens(api: Api, db_snapshot: Any, route: str, body: dict[str, Any]) -> None:
    before = db_snapshot()
    reply = api.post(route, body)
    assert reply.status in (400, 401)
    expect_error(reply, reply.status)
    assert db_snapshot() == before


def test_bad_patches(api: Api, db_snapshot: Any) -> None:
    user = api.register()
    token = api.login(user["email"])["access_token"]
    before = db_snapshot()
    for body in [{}, {"role": "admin"}, {"email": "new@example.com"}, {"display_name": 5},
                 {"display_name": ""}, {"password": "another phrase here"}]:
        expect_error(api.patch("/users/me", body, token=token), 400, "validation_error")
    expect_error(api.patch("/users/me", raw="{", token=token), 400, "invalid_json")
    assert db_snapshot() == before


# --- forged and unusable access tokens ---------------------------------------------

def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(user_id: str, **kw: Any) -> dict[str, Any]:
    s = get_settings()
    now = int(time.time())
    return {"sub": user_id, "role": "admin", "iss": s.jwt_issuer, "aud": s.jwt_audience, "iat": now,
            "nbf": now, "exp": now + 300, "jti": "forged", "ver": 99, **kw}


def forged_tokens(user_id: str, real: str) -> dict[str, str]:
    keys = signing_keys.get().get()  # the stack's keys, from Secrets Manager
    kid = keys.current_kid
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    confused_input = b64({"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + b64(claims(user_id))
    confused = confused_input + "." + b64(hmac.new(pem, confused_input.encode(), hashlib.sha256).digest())
    head, body, sig = real.split(".")
    tampered_claims = {**json.loads(base64.urlsafe_b64decode(body + "==")), "role": "admin"}
    sign = lambda c: jwt.encode(c, keys.current, algorithm="HS256", headers={"kid": kid})  # noqa: E731
    return {
        "alg_none": b64({"alg": "none", "typ": "JWT", "kid": kid}) + "." + b64(claims(user_id)) + ".",
        "rs256": jwt.encode(claims(user_id), rsa_key, algorithm="RS256", headers={"kid": kid}),
        "hs_with_public_key": confused,
        "expired": sign(claims(user_id, iat=int(time.time()) - 3600, nbf=int(time.time()) - 3600,
                               exp=int(time.time()) - 1800)),
        "tampered": f"{head}.{b64(tampered_claims)}.{sig}",
        "wrong_audience": sign(claims(user_id, aud="another-service")),
        "wrong_issuer": sign(claims(user_id, iss="someone-else")),
        "wrong_secret": jwt.encode(claims(user_id), "x" * 40, algorithm="HS256", headers={"kid": kid}),
        "unknown_kid": jwt.encode(claims(user_id), keys.current, algorithm="HS256",
                                  headers={"kid": "retired-0"}),
        "garbage": "not.a.jwt",
    }


def test_forged_tokens_are_refused_and_change_nothing(api: Api, db_snapshot: Any) -> None:
    user = api.register()
    real = api.login(user["email"])["access_token"]
    target = api.register()
    before = db_snapshot()
    for name, token in forged_tokens(user["id"], real).items():
        for reply in (api.get("/users/me", token=token),
                      api.patch("/users/me", {"display_name": "pwned"}, token=token),
                      api.patch(f"/admin/users/{target['id']}", {"role": "admin"}, token=token)):
            assert reply.status == 401, (name, reply.body)
            expect_error(reply, 401)
    for header in (None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer   "):
        extra = {"Authorization": header} if header is not None else {}
        expect_error(api.call("GET", "/users/me", headers=extra), 401, "missing_token")
    assert db_snapshot() == before


def test_disabled_accounts_valid_token_is_refused(api: Api, admin: dict[str, Any], db_snapshot: Any) -> None:
    user = api.register()
    tokens = api.login(user["email"])
    api.patch(f"/admin/users/{user['id']}", {"disabled": True}, token=admin["access_token"])
    before = db_snapshot()
    expect_error(api.get("/users/me", token=tokens["access_token"]), 401, "account_disabled")
    expect_error(api.patch("/users/me", {"display_name": "still here"}, token=tokens["access_token"]), 401,
                 "account_disabled")
    assert db_snapshot() == before


def test_replayed_refresh_tokens(api: Api, db_snapshot: Any) -> None:
    user = api.register()
    first = api.login(user["email"])["refresh_token"]
    assert api.post("/auth/refresh", {"refresh_token": first}).status == 200
    # The first replay is theft detection: it revokes the family (that is its one change).
    expect_error(api.post("/auth/refresh", {"refresh_token": first}), 401, "refresh_token_reused")
    before = db_snapshot()
    for _ in range(2):
        expect_error(api.post("/auth/refresh", {"refresh_token": first}), 401, "invalid_refresh_token")
    assert db_snapshot() == before
