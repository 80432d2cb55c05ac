"""The Chalice routes in-process, against the real database and Redis (token checks).

Every bad input gets a clear 4xx JSON error and changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from photostack.config import reset_settings
from photostack.tokens import issue_access_token
from transactions import bootstrap
from transactions.webhooks import signature_header

from tests.apps import load_app

pytestmark = pytest.mark.integration


@pytest.fixture
def api(world: Any) -> Iterator[Any]:
    app = load_app("transactions")
    bootstrap.install(world.service)
    with Client(app) as client:
        yield client
    bootstrap.install(None)


def auth(user_id: str, role: str = "customer", key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": "Bearer " + issue_access_token(user_id, role)[0],
               "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def post(api: Any, path: str, body: Any, headers: dict[str, str]) -> Any:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return api.http.post(path, headers=headers, body=raw)


def assert_error(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.body
    error = json.loads(response.body)["error"]
    assert error["message"]
    if code:
        assert error["code"] == code, error


def test_happy_path_through_the_routes(api: Any, world: Any) -> None:
    buyer, ph, admin = world.user("c"), world.user("p"), world.user("a")
    started = post(api, "/wallet/topups", {"amount_minor": 5000, "currency": "EUR"},
                   auth(buyer, key=world.key()))
    assert started.status_code == 201 and started.json_body["status"] == "pending"
    hook = world.provider.webhook(started.json_body["payment_id"])
    credited = api.http.post("/webhooks/payments", headers=hook.headers, body=hook.body)
    assert credited.status_code == 200 and credited.json_body["credited"] is True
    assert api.http.get("/wallet", headers=auth(buyer)).json_body == {
        "wallets": [{"currency": "EUR", "balance_minor": 5000}]}

    pid = world.stored_photo(ph, 1200)
    key = world.key()
    order = post(api, "/orders", {"photo_ids": [pid]}, auth(buyer, key=key))
    assert order.status_code == 201
    replay = post(api, "/orders", {"photo_ids": [pid]}, auth(buyer, key=key))
    assert replay.json_body == order.json_body and replay.headers.get("Idempotent-Replayed") == "true"
    order_id = order.json_body["order_id"]

    listed = api.http.get("/orders", headers=auth(buyer)).json_body["orders"]
    assert [o["order_id"] for o in listed] == [order_id]
    assert api.http.get(f"/orders/{order_id}", headers=auth(buyer)).json_body["total_minor"] == 1200
    assert api.http.get("/purchases", headers=auth(buyer)).json_body["purchases"][0]["photo_id"] == pid
    download = api.http.get(f"/purchases/{pid}/download", headers=auth(buyer))
    assert download.status_code == 200 and "X-Amz-Signature" in download.json_body["url"]
    ledger = api.http.get("/wallet/ledger?limit=1", headers=auth(buyer)).json_body
    assert ledger["entries"][0]["amount_minor"] == -1200 and ledger["next_cursor"]
    earnings = api.http.get("/earnings", headers=auth(ph, "photographer")).json_body["earnings"]
    assert earnings[0]["net_minor"] == 1020

    refund = post(api, "/admin/refunds", {"order_id": order_id}, auth(admin, "admin"))
    assert refund.status_code == 200 and refund.json_body["revoked"] == 1
    again = post(api, "/admin/refunds", {"order_id": order_id}, auth(admin, "admin"))
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert api.http.get("/wallet", headers=auth(buyer)).json_body["wallets"][0]["balance_minor"] == 5000


@pytest.mark.parametrize(("body", "status", "code"), [
    ("{not json", 400, "invalid_json"),
    ("[1, 2]", 400, "invalid_json"),
    ("", 400, "invalid_json"),
    ({"amount_minor": "100", "currency": "EUR"}, 400, "invalid_amount"),
    ({"amount_minor": -100, "currency": "EUR"}, 400, "invalid_amount"),
    ({"amount_minor": 0, "currency": "EUR"}, 400, "invalid_amount"),
    ({"amount_minor": 10.5, "currency": "EUR"}, 400, "invalid_amount"),
    ({"amount_minor": 100.0, "currency": "EUR"}, 400, "invalid_amount"),
    ({"amount_minor": 10**30, "currency": "EUR"}, 400, "invalid_amount"),
    ({"amount_minor": 1_000_001, "currency": "EUR"}, 400, "invalid_amount"),
    ({"amount_minor": 100, "currency": "ZZZ"}, 400, "invalid_amount"),
    ({"amount_minor": 100, "currency": None}, 400, "invalid_amount"),
    ({"amount_minor": 100}, 400, "bad_request"),
    ("x" * 70_000, 413, "payload_too_large"),
])
def test_bad_topups(api: Any, world: Any, body: Any, status: int, code: str) -> None:
    user = world.user()
    before = world.footprint(user)
    assert_error(post(api, "/wallet/topups", body, auth(user, key=world.key())), status, code)
    assert world.footprint(user) == before


def test_missing_or_bad_idempotency_key_and_token(api: Any, world: Any) -> None:
    user = world.user()
    body = {"amount_minor": 100, "currency": "EUR"}
    assert_error(post(api, "/wallet/topups", body, auth(user)), 400, "missing_idempotency_key")
    assert_error(post(api, "/orders", {"photo_ids": ["a"]}, auth(user)), 400, "missing_idempotency_key")
    assert_error(post(api, "/orders", {"photo_ids": ["a"]}, auth(user, key="bad key!")), 400,
                 "invalid_idempotency_key")
    assert_error(post(api, "/wallet/topups", body, {"Idempotency-Key": world.key()}), 401)
    assert_error(api.http.get("/wallet", headers={"Authorization": "Bearer forged.token.here"}), 401)
    assert world.footprint(user)["payments"] == 0


def test_bad_orders_through_the_routes(api: Any, world: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    owned = world.photo(ph, 100)
    post(api, "/orders", {"photo_ids": [owned]}, auth(buyer, key=world.key()))
    before = world.footprint(buyer)
    cases = [
        ({"photo_ids": "abc"}, 400, "bad_request"),
        ({"photo_ids": [1, 2]}, 400, "bad_request"),
        ({"photo_ids": []}, 400, "bad_request"),
        ("{oops", 400, "invalid_json"),
        ({"photo_ids": [world.photo(buyer, 100)]}, 422, "own_photo"),
        ({"photo_ids": [world.photo(ph, 100, for_sale=False)]}, 422, "not_for_sale"),
        ({"photo_ids": [owned]}, 409, "already_owned"),
        ({"photo_ids": [world.photo(ph, 5000)]}, 402, "insufficient_funds"),
        ({"photo_ids": ["does-not-exist"]}, 404, "photo_not_found"),
    ]
    for body, status, code in cases:
        assert_error(post(api, "/orders", body, auth(buyer, key=world.key())), status, code)
    short = post(api, "/orders", {"photo_ids": [world.photo(ph, 5000)]}, auth(buyer, key=world.key()))
    assert (short.status_code, json.loads(short.body)) == (402, {"error": {
        "code": "insufficient_funds",
        "message": "wallet balance 900 EUR is less than the order total 5000 EUR",
        "details": {"currency": "EUR", "needed_minor": 5000, "available_minor": 900}}})
    key = world.key()
    post(api, "/orders", {"photo_ids": [world.photo(ph, 100)]}, auth(buyer, key=key))
    after_one = world.footprint(buyer)
    assert after_one["orders"] == before["orders"] + 1
    assert_error(post(api, "/orders", {"photo_ids": [world.photo(ph, 100)]}, auth(buyer, key=key)),
                 422, "idempotency_key_reused")
    assert world.footprint(buyer) == after_one


def test_other_users_orders_downloads_and_admin_routes(api: Any, world: Any) -> None:
    buyer, ph, other = world.user("c"), world.user("p"), world.user("c")
    world.fund(buyer, 1000)
    pid = world.stored_photo(ph, 100)
    order_id = post(api, "/orders", {"photo_ids": [pid]}, auth(buyer, key=world.key())).json_body["order_id"]
    assert_error(api.http.get(f"/orders/{order_id}", headers=auth(other)), 404, "order_not_found")
    assert_error(api.http.get("/orders/not-a-uuid", headers=auth(other)), 404)
    assert_error(api.http.get(f"/purchases/{pid}/download", headers=auth(other)), 403, "not_entitled")
    assert api.http.get(f"/purchases/{pid}/download", headers=auth(ph, "photographer")).status_code == 200
    assert_error(api.http.get("/earnings", headers=auth(buyer)), 403, "wrong_role")
    before = world.footprint(buyer)
    for role in ("customer", "photographer"):
        assert_error(post(api, "/admin/refunds", {"order_id": order_id}, auth(other, role)), 403)
    assert_error(post(api, "/admin/refunds", {"order": order_id}, auth(other, "admin")), 400, "bad_request")
    assert_error(post(api, "/admin/refunds", {"order_id": 5}, auth(other, "admin")), 400, "bad_request")
    assert world.footprint(buyer) == before
    assert_error(api.http.get("/wallet/ledger?limit=0", headers=auth(buyer)), 400)
    assert_error(api.http.get("/wallet/ledger?cursor=%%%", headers=auth(buyer)), 400, "invalid_cursor")


def test_webhook_route_rejections(api: Any, world: Any) -> None:
    user = world.user()
    payment = post(api, "/wallet/topups", {"amount_minor": 300, "currency": "EUR"},
                   auth(user, key=world.key())).json_body["payment_id"]
    hook = world.provider.webhook(payment)
    secret = world.service.webhook_secret
    old = int(time.time()) - 600
    stale = {**hook.headers, "X-Photostack-Signature": signature_header(secret, hook.body, old)}
    forged = {**hook.headers, "X-Photostack-Signature": signature_header("x" * 40, hook.body)}
    unsigned = {"Content-Type": "application/json"}
    for headers, code in ((stale, "stale_signature"), (forged, "invalid_signature"),
                          (unsigned, "invalid_signature")):
        assert_error(api.http.post("/webhooks/payments", headers=headers, body=hook.body), 401, code)
    bad_json = b"{nope"
    signed_bad = {"X-Photostack-Signature": signature_header(secret, bad_json)}
    assert_error(api.http.post("/webhooks/payments", headers=signed_bad, body=bad_json), 400, "invalid_json")
    too_large = b"{" + b" " * (16 * 1024) + b"}"
    signed_large = {"X-Photostack-Signature": signature_header(secret, too_large)}
    assert_error(api.http.post("/webhooks/payments", headers=signed_large, body=too_large), 413,
                 "payload_too_large")
    assert world.balance(user) == 0
    assert api.http.post("/webhooks/payments", headers=hook.headers, body=hook.body).status_code == 200
    assert_error(api.http.post("/webhooks/payments", headers=hook.headers, body=hook.body), 409,
                 "replayed_event")
    assert world.balance(user) == 300


def test_health_and_database_outage(api: Any, world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.http.get("/health").json_body == {"status": "ok", "service": "transactions"}
    # A cold container whose database is unreachable answers 503, not 500.
    bootstrap.install(None)
    monkeypatch.setenv("PHOTOSTACK_DATABASE_URL", "postgresql://photostack:photostack@127.0.0.1:1/photostack")
    reset_settings()
    assert_error(api.http.get("/health"), 503, "database_unavailable")
    assert api.http.get("/health").headers["Retry-After"] == "1"
    assert_error(api.http.get("/wallet", headers=auth(world.user())), 503, "database_unavailable")
