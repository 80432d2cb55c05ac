"""Transactions end to end: HTTP through LocalStack's API Gateway to the deployed function,
which prices photos over gRPC from the running photo sidecar and writes the real ledger.

Photos are made ready and priced straight in the sidecar (the test plays the upload
pipeline); access tokens are minted with the stack's local signing key, as the users
function would; the payment provider is simulated by signing webhooks with the stack's
shared secret.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from photostack.tokens import issue_access_token
from transactions.config import payment_webhook_secret
from transactions.webhooks import signature_header

from tests.conftest import aws_client
from tests.e2e.transactions_setup import priced_photos
from tests.identity import STACK_SIDECAR, SidecarRef
from tests.made_events import MadeEvents
from tests.payment_fakes import SimulatedProvider

pytestmark = pytest.mark.e2e

TIMEOUT = 30


@pytest.fixture(scope="module")
def base(stack: dict[str, str]) -> str:
    return stack["TransactionsApiUrl"].rstrip("/")


@pytest.fixture(scope="module")
def sidecar() -> SidecarRef:
    """The stack's sidecar (`make up`), reached as the functions reach it (Consul, mTLS)."""
    return STACK_SIDECAR


def user(role: str = "customer") -> tuple[str, dict[str, str]]:
    user_id = f"e2e-{role[:1]}-{uuid.uuid4().hex[:12]}"
    return user_id, {"Authorization": "Bearer " + issue_access_token(user_id, role)[0]}


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}


def post(url: str, headers: dict[str, str], **kw: Any) -> requests.Response:
    return requests.post(url, headers=headers, timeout=TIMEOUT, **kw)


def get(url: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(url, headers=headers, timeout=TIMEOUT)


def assert_error(r: requests.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == code


def fund(base: str, headers: dict[str, str], amount: int) -> str:
    r = post(f"{base}/wallet/topups", {**headers, **key()}, json={"amount_minor": amount, "currency": "EUR"})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    payment_id: str = r.json()["payment_id"]
    hook = SimulatedProvider(payment_webhook_secret()).webhook(payment_id)
    done = post(f"{base}/webhooks/payments", hook.headers, data=hook.body)
    assert done.status_code == 200 and done.json()["credited"] is True, done.text
    return payment_id


def balance(base: str, headers: dict[str, str]) -> int:
    wallets = get(f"{base}/wallet", headers).json()["wallets"]
    return sum(w["balance_minor"] for w in wallets if w["currency"] == "EUR")


def test_topup_order_download_refund(base: str, sidecar: SidecarRef, stack: dict[str, str],
                                     made_events: MadeEvents) -> None:
    _, bh = user()
    owner, oh = user("photographer")
    _, admin = user("admin")
    pa, pb_ = priced_photos(sidecar, owner, 2, price_minor=1250,
                            originals=(aws_client("s3"), stack["UploadsBucketName"]), made=made_events)
    fund(base, bh, 3000)
    assert balance(base, bh) == 3000

    k = key()
    order = post(f"{base}/orders", {**bh, **k}, json={"photo_ids": [pa, pb_]})
    assert order.status_code == 201, order.text
    replay = post(f"{base}/orders", {**bh, **k}, json={"photo_ids": [pb_, pa]})
    assert replay.json() == order.json() and replay.headers.get("Idempotent-Replayed") == "true"
    assert_error(post(f"{base}/orders", {**bh, **k}, json={"photo_ids": [pa]}),
                 422, "idempotency_key_reused")
    assert balance(base, bh) == 500

    download = get(f"{base}/purchases/{pa}/download", bh)
    assert download.status_code == 200, download.text
    assert "originals/" in download.json()["url"] and pa in download.json()["url"]
    assert get(f"{base}/purchases/{pa}/download", oh).status_code == 200
    _, stranger = user()
    assert_error(get(f"{base}/purchases/{pa}/download", stranger),
                 403, "not_entitled")

    earnings = get(f"{base}/earnings", oh).json()["earnings"]
    assert earnings[0]["net_minor"] == 2 * (1250 - 188)

    order_id = order.json()["order_id"]
    assert_error(post(f"{base}/admin/refunds", bh, json={"order_id": order_id}), 403, "wrong_role")
    refund = post(f"{base}/admin/refunds", admin, json={"order_id": order_id})
    assert refund.status_code == 200 and refund.json()["revoked"] == 2, refund.text
    again = post(f"{base}/admin/refunds", admin, json={"order_id": order_id})
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert balance(base, bh) == 3000
    assert get(f"{base}/purchases", bh).json()["purchases"] == []
    ledger = get(f"{base}/wallet/ledger?limit=2", bh).json()
    assert [e["entry_kind"] for e in ledger["entries"]] == ["refund", "order"] and ledger["next_cursor"]


def test_bad_requests_change_nothing(base: str, sidecar: SidecarRef, made_events: MadeEvents) -> None:
    buyer, bh = user()
    owner, _ = user("photographer")
    fund(base, bh, 1000)
    (expensive,) = priced_photos(sidecar, owner, 1, price_minor=5000, made=made_events)
    (unpriced,) = priced_photos(sidecar, owner, 1, price_minor=None, made=made_events)
    (own,) = priced_photos(sidecar, buyer, 1, price_minor=100, made=made_events)
    json_headers = {**bh, "Content-Type": "application/json"}
    cases = [
        (post(f"{base}/wallet/topups", {**json_headers, **key()}, data="{oops"),
         400, "invalid_json"),
        (post(f"{base}/wallet/topups", {**bh, **key()}, json={"amount_minor": 10.5, "currency": "EUR"}),
         400, "invalid_amount"),
        (post(f"{base}/wallet/topups", {**bh, **key()}, json={"amount_minor": 100, "currency": "DOGE"}),
         400, "invalid_amount"),
        (post(f"{base}/orders", bh, json={"photo_ids": [expensive]}),
         400, "missing_idempotency_key"),
        (post(f"{base}/orders", {**bh, **key()}, json={"photo_ids": [expensive]}), 402, "insufficient_funds"),
        (post(f"{base}/orders", {**bh, **key()}, json={"photo_ids": [unpriced]}), 422, "not_for_sale"),
        (post(f"{base}/orders", {**bh, **key()}, json={"photo_ids": [own]}),
         422, "own_photo"),
        (post(f"{base}/orders", {**bh, **key()}, json={"photo_ids": [str(uuid.uuid4())]}),
         404, "photo_not_found"),
        (get(f"{base}/wallet"), 401, "missing_token"),
    ]
    for response, status, code in cases:
        assert_error(response, status, code)
    short = post(f"{base}/orders", {**bh, **key()}, json={"photo_ids": [expensive]}).json()["error"]
    assert short == {"code": "insufficient_funds",
                     "message": "wallet balance 1000 EUR is less than the order total 5000 EUR",
                     "details": {"currency": "EUR", "needed_minor": 5000, "available_minor": 1000}}
    assert balance(base, bh) == 1000
    assert get(f"{base}/orders", bh).json()["orders"] == []


def test_webhook_forgeries_and_replays(base: str) -> None:
    _, bh = user()
    r = post(f"{base}/wallet/topups", {**bh, **key()}, json={"amount_minor": 700, "currency": "EUR"})
    payment_id = r.json()["payment_id"]
    secret = payment_webhook_secret()
    hook = SimulatedProvider(secret).webhook(payment_id)
    old = int(time.time()) - 900
    stale = {**hook.headers, "X-Photostack-Signature": signature_header(secret, hook.body, old)}
    forged = {**hook.headers, "X-Photostack-Signature": signature_header("f" * 40, hook.body)}
    for headers, code in ((stale, "stale_signature"), (forged, "invalid_signature")):
        assert_error(post(f"{base}/webhooks/payments", headers, data=hook.body),
                     401, code)
    assert balance(base, bh) == 0
    ok = post(f"{base}/webhooks/payments", hook.headers, data=hook.body)
    assert ok.status_code == 200
    assert_error(post(f"{base}/webhooks/payments", hook.headers, data=hook.body), 409, "replayed_event")
    assert balance(base, bh) == 700


def test_concurrent_orders_through_the_gateway(base: str, sidecar: SidecarRef,
                                               made_events: MadeEvents) -> None:
    _, bh = user()
    owner, _ = user("photographer")
    photos = priced_photos(sidecar, owner, 10, price_minor=300, made=made_events)
    fund(base, bh, 1500)

    def buy(pid: str) -> int:
        r = post(f"{base}/orders", {**bh, **key()}, json={"photo_ids": [pid]})
        return r.status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(buy, photos))
    assert sorted(statuses) == [201] * 5 + [402] * 5
    assert balance(base, bh) == 0


