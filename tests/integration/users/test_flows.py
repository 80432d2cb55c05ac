"""Every users flow through the app's routes, against the real PostgreSQL and Redis."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from users import admin as admin_cli
from users.passwords import Passwords
from users.services import UsersService

pytestmark = pytest.mark.integration

Api = Any


def bearer(tokens: dict[str, Any]) -> str:
    return str(tokens["access_token"])


def test_health_checks_postgres_and_redis(api: Api) -> None:
    r = api.get("/health")
    assert r.status == 200 and r.body == {"status": "ok", "service": "users"}


def test_register_login_me_and_public_profile(api: Api) -> None:
    user = api.register(role="photographer", email=f"Mixed.Case-{uuid.uuid4().hex[:8]}@Example.COM")
    assert user["role"] == "photographer" and "password_hash" not in user
    tokens = api.login(user["email"].upper())
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert tokens["user"]["id"] == user["id"]

    me = api.get("/users/me", token=bearer(tokens))
    assert me.status == 200 and me.body["email"] == user["email"]

    public = api.get(f"/users/{user['id']}")
    assert public.status == 200
    assert public.body == {"id": user["id"], "display_name": "Test User", "role": "photographer"}


def test_emails_are_unique_whatever_their_case(api: Api, db_snapshot: Any) -> None:
    user = api.register()
    before = db_snapshot()
    again = api.post("/auth/register", {"email": user["email"].upper(), "password": "a different phrase",
                                        "display_name": "Other", "role": "customer"})
    assert again.status == 409 and again.body["error"]["code"] == "email_taken"
    assert db_snapshot() == before


def test_unknown_email_and_wrong_password_answer_alike(api: Api) -> None:
    user = api.register()
    wrong = api.post("/auth/login", {"email": user["email"], "password": "not the password"})
    unknown = api.post("/auth/login", {"email": "nobody-" + user["email"], "password": "not the password"})
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body == {"error": {"code": "invalid_credentials",
                                                    "message": "email or password is wrong"}}


def test_refresh_rotates_and_reuse_revokes_the_family(api: Api, service: UsersService) -> None:
    user = api.register()
    first = api.login(user["email"])
    second = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert second.status == 200 and second.body["refresh_token"] != first["refresh_token"]
    assert api.get("/users/me", token=bearer(second.body)).status == 200

    replay = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert replay.status == 401 and replay.body["error"]["code"] == "refresh_token_reused"
    # The thief's (or the victim's) newer token dies with the family.
    after = api.post("/auth/refresh", {"refresh_token": second.body["refresh_token"]})
    assert after.status == 401 and after.body["error"]["code"] == "invalid_refresh_token"

    # Another login is another family, untouched.
    other = api.login(user["email"])
    assert api.post("/auth/refresh", {"refresh_token": other["refresh_token"]}).status == 200


def test_concurrent_refreshes_of_one_token_rotate_it_once(api: Api, service: UsersService) -> None:
    user = api.register()
    token = api.login(user["email"])["refresh_token"]
    outcomes: list[str] = []

    def refresh() -> None:
        try:
            service.refresh(token)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["RefreshTokenReused", "ok"]


def test_logout_revokes_the_family(api: Api) -> None:
    user = api.register()
    tokens = api.login(user["email"])
    rotated = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}).body
    out = api.post("/auth/logout", {"refresh_token": rotated["refresh_token"]})
    assert out.status == 204
    again = api.post("/auth/refresh", {"refresh_token": rotated["refresh_token"]})
    assert again.status == 401
    assert api.post("/auth/logout", {"refresh_token": rotated["refresh_token"]}).status == 204
    unknown = api.post("/auth/logout", {"refresh_token": "x" * 43})
    assert unknown.status == 401 and unknown.body["error"]["code"] == "invalid_refresh_token"


def test_patch_me_changes_name_and_password(api: Api) -> None:
    user = api.register()
    tokens = api.login(user["email"])
    other_session = api.login(user["email"])  # e.g. a thief's, or another device's
    token = bearer(tokens)
    renamed = api.patch("/users/me", {"display_name": "  New Name "}, token=token)
    assert renamed.status == 200 and renamed.body["display_name"] == "New Name"

    wrong = api.patch("/users/me", {"password": "a brand new phrase", "current_password": "nope nope"},
                      token=token)
    assert wrong.status == 401
    common = api.patch("/users/me", {"password": "password123", "current_password": api.password},
                       token=token)
    assert common.status == 400 and common.body["error"]["code"] == "weak_password"
    changed = api.patch("/users/me", {"password": "a brand new phrase", "current_password": api.password},
                        token=token)
    assert changed.status == 200
    # Every session from before the change is over: every refresh family, and every access
    # token (this one included: whoever stole the password may hold it too).
    for session in (tokens, other_session):
        refused = api.post("/auth/refresh", {"refresh_token": session["refresh_token"]})
        assert refused.status == 401 and refused.body["error"]["code"] == "invalid_refresh_token"
        me = api.get("/users/me", token=bearer(session))
        assert me.status == 401 and me.body["error"]["code"] == "token_revoked"
    assert api.post("/auth/login", {"email": user["email"], "password": api.password}).status == 401
    fresh = api.login(user["email"], "a brand new phrase")
    assert api.get("/users/me", token=bearer(fresh)).status == 200


def test_guessing_the_current_password_is_throttled(api: Api) -> None:
    user = api.register()
    token = bearer(api.login(user["email"]))
    for _ in range(3):
        r = api.patch("/users/me", {"password": "a brand new phrase", "current_password": "guess guess"},
                      token=token)
        assert r.status == 401
    r = api.patch("/users/me", {"password": "a brand new phrase", "current_password": api.password},
                  token=token)
    assert r.status == 429 and "retry-after" in r.headers


def test_public_profile_of_unknown_or_malformed_ids(api: Api) -> None:
    assert api.get("/users/00000000-0000-0000-0000-000000000000").status == 404
    bad = api.get("/users/not-a-uuid")
    assert bad.status == 404 and bad.body["error"]["code"] == "not_found"


def test_admin_changes_role_and_old_tokens_stop_working(api: Api, admin: dict[str, Any]) -> None:
    user = api.register(role="photographer")
    tokens = api.login(user["email"])
    r = api.patch(f"/admin/users/{user['id']}", {"role": "customer"}, token=bearer(admin))
    assert r.status == 200 and r.body["role"] == "customer"
    old = api.get("/users/me", token=bearer(tokens))
    assert old.status == 401 and old.body["error"]["code"] == "token_revoked"
    # The refresh token still works and brings the new role.
    fresh = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}).body
    assert fresh["user"]["role"] == "customer"
    assert api.get("/users/me", token=bearer(fresh)).body["role"] == "customer"


def test_admin_disables_an_account_everywhere(api: Api, admin: dict[str, Any]) -> None:
    user = api.register()
    tokens = api.login(user["email"])
    other_session = api.login(user["email"])
    r = api.patch(f"/admin/users/{user['id']}", {"disabled": True}, token=bearer(admin))
    assert r.status == 200 and r.body["disabled"] is True

    me = api.get("/users/me", token=bearer(tokens))
    assert me.status == 401 and me.body["error"]["code"] == "account_disabled"
    login = api.post("/auth/login", {"email": user["email"], "password": api.password})
    assert login.status == 401 and login.body["error"]["code"] == "account_disabled"

    # Re-enabling does not bring the old sessions back: their families were revoked and
    # their access tokens carry an older version.
    assert api.patch(f"/admin/users/{user['id']}", {"disabled": False}, token=bearer(admin)).status == 200
    for session in (tokens, other_session):
        assert api.post("/auth/refresh", {"refresh_token": session["refresh_token"]}).status == 401
        old = api.get("/users/me", token=bearer(session))
        assert old.status == 401 and old.body["error"]["code"] == "token_revoked"
    assert api.get("/users/me", token=bearer(api.login(user["email"]))).status == 200


def test_admin_route_needs_an_admin_and_a_real_target(api: Api, admin: dict[str, Any]) -> None:
    user = api.register()
    tokens = api.login(user["email"])
    denied = api.patch(f"/admin/users/{user['id']}", {"role": "admin"}, token=bearer(tokens))
    assert denied.status == 403 and denied.body["error"]["code"] == "wrong_role"
    assert api.patch(f"/admin/users/{user['id']}", {"role": "admin"}).status == 401
    missing = api.patch("/admin/users/00000000-0000-0000-0000-000000000000", {"role": "admin"},
                        token=bearer(admin))
    assert missing.status == 404
    itself = api.patch(f"/admin/users/{admin['user']['id']}", {"disabled": True}, token=bearer(admin))
    assert itself.status == 403


def test_login_is_throttled_per_account(api: Api) -> None:
    user = api.register()
    for _ in range(3):
        assert api.post("/auth/login", {"email": user["email"], "password": "wrong guess"}).status == 401
    # Locked: even the right password waits, and the answer says for how long.
    locked = api.post("/auth/login", {"email": user["email"].upper(), "password": api.password})
    assert locked.status == 429 and locked.body["error"]["code"] == "too_many_attempts"
    assert 1 <= int(locked.headers["retry-after"]) <= 60


def test_login_is_throttled_per_client_address(api: Api) -> None:
    for i in range(6):
        r = api.post("/auth/login", {"email": f"spray-{i}@example.com", "password": "wrong guess"})
        assert r.status == 401
    blocked = api.post("/auth/login", {"email": "spray-new@example.com", "password": "wrong guess"})
    assert blocked.status == 429 and int(blocked.headers["retry-after"]) >= 1


def test_success_clears_the_account_counter(api: Api) -> None:
    user = api.register()
    for _ in range(2):
        api.post("/auth/login", {"email": user["email"], "password": "wrong guess"})
    api.login(user["email"])
    for _ in range(2):
        assert api.post("/auth/login", {"email": user["email"], "password": "wrong guess"}).status == 401
    api.login(user["email"])


def test_login_rehashes_when_parameters_were_raised(api: Api, service: UsersService) -> None:
    user = api.register()
    with service._db.cursor() as cur:
        cur.execute("SELECT password_hash FROM users WHERE id = %s", (user["id"],))
        old_hash = cur.fetchone()["password_hash"]
    assert old_hash.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    stronger = Passwords(time_cost=2, memory_kib=9 * 1024, parallelism=1)
    service._passwords = stronger
    api.login(user["email"])
    with service._db.cursor() as cur:
        cur.execute("SELECT password_hash FROM users WHERE id = %s", (user["id"],))
        new_hash = cur.fetchone()["password_hash"]
    assert new_hash.startswith("$argon2id$v=19$m=9216,t=2,p=1$")
    assert stronger.verify(new_hash, api.password)
    assert not stronger.needs_rehash(new_hash)


def test_operator_cli_promotes_an_existing_account(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    user = api.register()
    assert admin_cli.main(["promote", user["email"].upper()]) == 0
    assert "is now admin" in capsys.readouterr().out
    tokens = api.login(user["email"])
    assert tokens["user"]["role"] == "admin"
    assert admin_cli.main(["promote", "nobody-" + user["email"]]) == 1


def test_refresh_slides_but_a_login_ends_at_its_absolute_lifetime(api: Api, service: UsersService) -> None:
    user = api.register()
    start = datetime.now(UTC)
    tokens = api.login(user["email"])
    day = timedelta(days=1)
    service._max_session = 30 * day
    service._refresh_ttl = 14 * day
    token = tokens["refresh_token"]
    # Used every 10 days, the sliding lifetime (14 days) would keep this login alive forever.
    for days in (10, 20, 29):
        service._clock = lambda d=days: start + d * day  # type: ignore[misc]
        r = api.post("/auth/refresh", {"refresh_token": token})
        assert r.status == 200, r.body
        token = r.body["refresh_token"]
    # Issued on day 29, the last token is good until day 30 only, not day 43.
    assert 23 * 3600 <= r.body["refresh_expires_in"] <= 24 * 3600
    service._clock = lambda: start + 31 * day  # type: ignore[misc]
    expired = api.post("/auth/refresh", {"refresh_token": token})
    assert expired.status == 401 and expired.body["error"]["code"] == "session_expired"
    # Sign in again: a new login, a new 30 days.
    fresh = api.login(user["email"])
    assert api.post("/auth/refresh", {"refresh_token": fresh["refresh_token"]}).status == 200
