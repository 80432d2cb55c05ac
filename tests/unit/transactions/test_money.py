from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transactions.money import MAX_TOPUP_MINOR, MoneyError, check_currency, parse_amount, split_fee

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", [1, 500, MAX_TOPUP_MINOR])
def test_parse_amount_accepts_integers_in_range(value: int) -> None:
    assert parse_amount(value, maximum=MAX_TOPUP_MINOR) == value


@pytest.mark.parametrize("value", [0, -1, MAX_TOPUP_MINOR + 1, 10**30, 10.0, 10.5, "10", True, None, [10]])
def test_parse_amount_refuses_non_integers_and_out_of_range(value: object) -> None:
    with pytest.raises(MoneyError):
        parse_amount(value, maximum=MAX_TOPUP_MINOR)


@pytest.mark.parametrize("value", ["eur", "XXX", "", None, 978, "EURO"])
def test_unknown_currencies_are_refused(value: object) -> None:
    with pytest.raises(MoneyError):
        check_currency(value)


@pytest.mark.parametrize(("price", "bps", "fee", "net"), [
    (1000, 1500, 150, 850),
    (1, 1500, 0, 1),        # 0.15 rounds down
    (3, 1500, 0, 3),        # 0.45 rounds down
    (4, 1500, 1, 3),        # 0.6 rounds up
    (10, 500, 1, 9),        # 0.5 rounds half up
    (999, 0, 0, 999),
    (999, 10_000, 999, 0),
])
def test_split_fee_examples(price: int, bps: int, fee: int, net: int) -> None:
    assert split_fee(price, bps) == (fee, net)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_split_fee_never_creates_or_loses_a_cent(price: int, bps: int) -> None:
    fee, net = split_fee(price, bps)
    assert fee + net == price
    assert 0 <= fee <= price
    # The fee is the exact share rounded to the nearest minor unit.
    assert abs(fee * 10_000 - price * bps) <= 5_000


@given(st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=50),
       st.integers(min_value=0, max_value=10_000))
def test_split_over_many_lines_adds_up(prices: list[int], bps: int) -> None:
    splits = [split_fee(p, bps) for p in prices]
    assert sum(f for f, _ in splits) + sum(n for _, n in splits) == sum(prices)


@pytest.mark.parametrize(("price", "bps"), [(-1, 100), (100, -1), (100, 10_001), (1.0, 100)])
def test_split_fee_refuses_bad_input(price: object, bps: int) -> None:
    with pytest.raises(MoneyError):
        split_fee(price, bps)  # type: ignore[arg-type]
