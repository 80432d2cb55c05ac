from __future__ import annotations

import pytest
from transactions.catalog import CatalogPhoto
from transactions.domain import OrderRequest, TopupRequest, idempotency_key, price_order
from transactions.errors import InvalidRequest, Missing, NotPurchasable, TransactionsError

pytestmark = pytest.mark.unit


def photo(pid: str, owner: str = "ph", price: int = 1000, currency: str = "EUR",
          for_sale: bool = True) -> CatalogPhoto:
    return CatalogPhoto(pid, "ev1", owner, price, currency, for_sale, f"originals/ev1/{pid}")


def test_idempotency_key_is_required_and_bounded() -> None:
    assert idempotency_key({"Idempotency-Key": " abcdefgh-123 "}) == "abcdefgh-123"
    assert idempotency_key({"idempotency-key": "abcdefgh"}) == "abcdefgh"
    for headers in ({}, {"Idempotency-Key": ""}, {"Idempotency-Key": "short"},
                    {"Idempotency-Key": "x" * 129}, {"Idempotency-Key": "has space in it"}):
        with pytest.raises(InvalidRequest):
            idempotency_key(headers)


@pytest.mark.parametrize("body", [
    {}, {"amount_minor": 100}, {"currency": "EUR"}, {"amount_minor": -5, "currency": "EUR"},
    {"amount_minor": 0, "currency": "EUR"}, {"amount_minor": 10.5, "currency": "EUR"},
    {"amount_minor": 10**15, "currency": "EUR"}, {"amount_minor": "100", "currency": "EUR"},
    {"amount_minor": 100, "currency": "XYZ"}, {"amount_minor": 100, "currency": "EUR", "extra": 1},
    {"amount_minor": True, "currency": "EUR"},
])
def test_bad_topups_are_400(body: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        TopupRequest.parse(body)


def test_topup_fingerprint_ignores_key_order() -> None:
    a = TopupRequest.parse({"amount_minor": 100, "currency": "EUR"})
    b = TopupRequest.parse({"currency": "EUR", "amount_minor": 100})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != TopupRequest.parse({"amount_minor": 101, "currency": "EUR"}).fingerprint()


@pytest.mark.parametrize("body", [
    {}, {"photo_ids": []}, {"photo_ids": "p1"}, {"photo_ids": [1]}, {"photo_ids": ["p1", "p1"]},
    {"photo_ids": [""]}, {"photo_ids": ["p"] * 0 + [f"p{i}" for i in range(51)]},
    {"photo_ids": ["p1"], "total": 5}, {"photo_ids": ["../etc"]},
])
def test_bad_orders_are_400(body: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        OrderRequest.parse(body)


def test_order_fingerprint_ignores_photo_order() -> None:
    assert (OrderRequest.parse({"photo_ids": ["a", "b"]}).fingerprint()
            == OrderRequest.parse({"photo_ids": ["b", "a"]}).fingerprint())


def test_price_order_splits_each_line() -> None:
    lines = price_order("cust", ("a", "b"), {"a": photo("a", price=999), "b": photo("b", owner="ph2")}, 1500)
    splits = [(li.price_minor, li.fee_minor, li.net_minor) for li in lines]
    assert splits == [(999, 150, 849), (1000, 150, 850)]


@pytest.mark.parametrize(("photos", "error", "code"), [
    ({}, Missing, "photo_not_found"),
    ({"a": photo("a", owner="cust")}, NotPurchasable, "own_photo"),
    ({"a": photo("a", for_sale=False)}, NotPurchasable, "not_for_sale"),
    ({"a": photo("a", price=0)}, NotPurchasable, "not_for_sale"),
    ({"a": photo("a", currency="JPY")}, NotPurchasable, "not_for_sale"),
])
def test_unbuyable_photos(photos: dict[str, CatalogPhoto], error: type[TransactionsError], code: str) -> None:
    with pytest.raises(error) as caught:
        price_order("cust", ("a",), photos, 1500)
    assert caught.value.code == code


def test_mixed_currencies_are_refused() -> None:
    with pytest.raises(NotPurchasable):
        price_order("cust", ("a", "b"), {"a": photo("a"), "b": photo("b", currency="USD")}, 1500)
