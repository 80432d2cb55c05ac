"""Orders, entitlements, refunds, downloads and earnings against the real database."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg2.errors
import pytest
from transactions import repository
from transactions.catalog import CatalogUnavailable
from transactions.domain import OrderRequest
from transactions.errors import (
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidRequest,
    Missing,
    NotEntitled,
    NotPurchasable,
    StateConflict,
    Unavailable,
)

pytestmark = pytest.mark.integration


def test_order_moves_money_and_grants_entitlements(world: Any, violations: Any) -> None:
    buyer, ph1, ph2 = world.user("c"), world.user("p"), world.user("p")
    world.fund(buyer, 5000)
    a, b, c = world.photo(ph1, 999), world.photo(ph1, 1001), world.photo(ph2, 2000)
    platform_before = _platform(world)

    order = world.order(buyer, a, b, c)
    assert order["status"] == "paid" and order["total_minor"] == 4000
    assert world.balance(buyer) == 1000
    # 15 %: 149.85 -> 150, 150.15 -> 150, 300 -> 300; photographers get the rest, to the cent.
    assert world.balance(ph1, "earnings") == (999 - 150) + (1001 - 150)
    assert world.balance(ph2, "earnings") == 2000 - 300
    assert _platform(world) - platform_before == 600

    purchases = world.service.purchases(buyer, None, 10)["purchases"]
    assert {p["photo_id"] for p in purchases} == {a, b, c}
    assert world.service.get_order(buyer, order["order_id"])["total_minor"] == 4000
    earnings = world.service.earnings(ph1)["earnings"]
    assert earnings == [{"currency": "EUR", "balance_minor": 1700, "fee_bps": 1500, "sales": 2,
                         "refunded": 0, "gross_minor": 2000, "fee_minor": 300, "net_minor": 1700}]
    assert not any(violations(world.service.db).values())


def _platform(world: Any) -> int:
    with world.service.db.cursor() as cur:
        cur.execute("SELECT coalesce(sum(balance_minor), 0) AS b FROM accounts"
                    " WHERE kind = 'platform_revenue' AND currency = 'EUR'")
        return int(cur.fetchone()["b"])


def test_same_key_same_body_replays_and_different_body_is_422(world: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 5000)
    a, b = world.photo(ph, 1000), world.photo(ph, 1000)
    key = world.key()
    first = world.service.place_order(buyer, key, OrderRequest((a,)))
    replay = world.service.place_order(buyer, key, OrderRequest((a,)))
    assert replay.replayed and replay.body == first.body and replay.status == 201
    with pytest.raises(IdempotencyKeyReused):
        world.service.place_order(buyer, key, OrderRequest((b,)))
    assert world.balance(buyer) == 4000


@pytest.mark.parametrize("case", ["insufficient", "own", "not_for_sale", "already_owned", "unknown",
                                  "mixed_currency"])
def test_unbuyable_orders_change_nothing(world: Any, case: str) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1500)
    owned = world.photo(ph, 500)
    world.order(buyer, owned)
    photo = {
        "insufficient": lambda: world.photo(ph, 1001),
        "own": lambda: world.photo(buyer, 100),
        "not_for_sale": lambda: world.photo(ph, 100, for_sale=False),
        "already_owned": lambda: owned,
        "unknown": lambda: "no-such-photo",
        "mixed_currency": lambda: world.photo(ph, 100, currency="USD"),
    }[case]()
    ids = (world.photo(ph, 100), photo)
    expected = {"insufficient": InsufficientFunds, "own": NotPurchasable,
                "not_for_sale": NotPurchasable, "already_owned": StateConflict,
                "unknown": Missing, "mixed_currency": NotPurchasable}[case]
    before, ph_before = world.footprint(buyer), world.footprint(ph)
    with pytest.raises(expected):
        world.order(buyer, *ids)
    assert world.footprint(buyer) == before
    assert world.footprint(ph) == ph_before


def test_refund_reverses_everything_once(world: Any, violations: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 3000)
    a, b = world.photo(ph, 1000), world.photo(ph, 1000)
    order = world.order(buyer, a, b)
    assert world.balance(buyer) == 1000

    refunded = world.service.refund(order["order_id"])
    assert refunded.body["revoked"] == 2 and not refunded.replayed
    assert world.balance(buyer) == 3000
    assert world.balance(ph, "earnings") == 0
    assert world.service.purchases(buyer, None, 10)["purchases"] == []
    with pytest.raises(NotEntitled):
        world.service.download(buyer, a)
    assert world.service.get_order(buyer, order["order_id"])["status"] == "refunded"

    again = world.service.refund(order["order_id"])
    assert again.replayed and world.balance(buyer) == 3000
    # After a refund the photo can be bought again.
    world.order(buyer, a)
    assert world.balance(buyer) == 2000
    assert world.service.earnings(ph)["earnings"][0]["refunded"] == 2
    assert not any(violations(world.service.db).values())


def test_refund_of_unknown_order_is_404(world: Any) -> None:
    with pytest.raises(Missing):
        world.service.refund("00000000-0000-4000-8000-000000000000")
    with pytest.raises(InvalidRequest):
        world.service.refund("not-a-uuid")


def test_other_customers_order_is_not_found(world: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    order = world.order(buyer, world.photo(ph, 100))
    with pytest.raises(Missing):
        world.service.get_order(world.user("c"), order["order_id"])
    assert world.service.list_orders(world.user("c"), None, 10)["orders"] == []


def test_download_for_buyers_and_owner_only(world: Any) -> None:
    buyer, ph, stranger = world.user("c"), world.user("p"), world.user("c")
    world.fund(buyer, 1000)
    pid = world.stored_photo(ph, 100)
    world.order(buyer, pid)
    photo = world.catalog.get_photos([pid])[pid]
    for user in (buyer, ph):
        grant = world.service.download(user, pid)
        url = urlparse(grant["url"])
        assert url.path == f"/{world.service.uploads_bucket}/{photo.original_key}"
        assert parse_qs(url.query)["X-Amz-Expires"] == ["120"]
        # Pinned to the version whose hash was recorded, whatever is written there later.
        assert parse_qs(url.query)["versionId"] == [photo.original_version_id]
        assert grant["expires_in"] == 120
    with pytest.raises(NotEntitled):
        world.service.download(stranger, pid)
    with pytest.raises(Missing):
        world.service.download(buyer, "missing-photo")


def test_pagination_of_ledger_orders_and_purchases(world: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 10_000)
    for _ in range(5):
        world.order(buyer, world.photo(ph, 100))
    seen: list[int] = []
    cursor = None
    while True:
        page = world.service.ledger(buyer, cursor, 2)
        seen += [e["posting_id"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)
    first = world.service.list_orders(buyer, None, 3)
    rest = world.service.list_orders(buyer, first["next_cursor"], 3)
    assert len(first["orders"]) == 3 and len(rest["orders"]) == 2 and rest["next_cursor"] is None
    assert len(world.service.purchases(buyer, None, 50)["purchases"]) == 5
    with pytest.raises(InvalidRequest):
        world.service.ledger(buyer, "garbage!", 2)


def test_aborted_transaction_leaves_no_partial_order(world: Any, monkeypatch: pytest.MonkeyPatch,
                                                     violations: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    pid, key = world.photo(ph, 400), world.key()
    before, ph_before = world.footprint(buyer), world.footprint(ph)

    # The order's one statement writes the claim, ledger entry, balances and order rows; then a
    # statement after it in the same transaction fails, before the commit.
    monkeypatch.setattr(repository, "_PLACE_ORDER_SQL", repository._PLACE_ORDER_SQL + "; SELECT 1 / 0")
    with pytest.raises(psycopg2.errors.DivisionByZero):
        world.order(buyer, pid, key=key)
    assert world.footprint(buyer) == before and world.footprint(ph) == ph_before
    monkeypatch.undo()

    # The key was not consumed: the retry goes through once.
    order = world.order(buyer, pid, key=key)
    assert world.balance(buyer) == 600 and order["total_minor"] == 400
    assert not any(violations(world.service.db).values())


def test_a_replay_answers_even_when_the_order_could_not_be_priced_now(world: Any) -> None:
    """The key is claimed inside the order's SQL function; when pricing fails first (the photo was
    unlisted since, or the catalog is down), the key is still looked up, so a retry gets its order."""
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 5000)
    pid, key = world.photo(ph, 1000), world.key()
    first = world.service.place_order(buyer, key, OrderRequest((pid,)))
    photo = world.catalog.get_photos([pid])[pid]
    world.catalog.add(dataclasses.replace(photo, for_sale=False))
    assert world.service.place_order(buyer, key, OrderRequest((pid,))).body == first.body

    class Down:
        def get_photos(self, photo_ids: list[str], *, user: Any = None) -> dict[str, Any]:
            raise CatalogUnavailable("sidecar down")

    world.service.catalog = Down()
    replay = world.service.place_order(buyer, key, OrderRequest((pid,)))
    assert replay.replayed and replay.body == first.body
    with pytest.raises(Unavailable):
        world.service.place_order(buyer, world.key(), OrderRequest((pid,)))
    assert world.balance(buyer) == 4000


def test_an_order_of_many_photographers_creates_all_their_accounts_at_once(world: Any,
                                                                          violations: Any) -> None:
    """Twelve photographers never seen before: 1 wallet + 13 sharded accounts, more rows than one
    statement page (100), all created and found in one go."""
    buyer = world.user("c")
    photographers = [world.user("p") for _ in range(12)]
    world.fund(buyer, 12 * 300)
    world.service.accounts.clear()
    order = world.order(buyer, *[world.photo(ph, 300) for ph in photographers])
    assert order["total_minor"] == 12 * 300 and world.balance(buyer) == 0
    assert all(world.balance(ph, "earnings") == 300 - 45 for ph in photographers)
    assert not any(violations(world.service.db).values())
