from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transactions.ledger import (
    AccountRef,
    Entry,
    Posting,
    SaleLine,
    UnbalancedEntry,
    order_entry,
    reversal_of,
    topup_entry,
)
from transactions.money import split_fee

pytestmark = pytest.mark.unit


def _sums(entry: Entry) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for p in entry.postings:
        totals[p.currency] += p.amount_minor
    return dict(totals)


def test_topup_credits_wallet_against_provider_clearing() -> None:
    entry = topup_entry("u1", 2500, "EUR", "pay-1")
    assert {(p.account.kind, p.amount_minor) for p in entry.postings} == {
        ("wallet", 2500), ("provider_clearing", -2500)}
    assert entry.reference == "payment:pay-1"


def test_unbalanced_entries_are_refused() -> None:
    w, c = AccountRef.wallet("u1", "EUR"), AccountRef.provider_clearing("EUR")
    with pytest.raises(UnbalancedEntry):
        Entry("topup", "x", (Posting(w, 100), Posting(c, -99)))
    with pytest.raises(UnbalancedEntry):
        Entry("topup", "x", (Posting(w, 100),))
    with pytest.raises(UnbalancedEntry):
        Entry("topup", "x", (Posting(w, 0), Posting(c, 0)))
    # Balanced in total but not per currency.
    with pytest.raises(UnbalancedEntry):
        Entry("topup", "x", (Posting(w, 100), Posting(AccountRef.provider_clearing("USD"), -100)))


def test_account_refs_are_validated() -> None:
    with pytest.raises(ValueError):
        AccountRef("wallet", "", "EUR")
    with pytest.raises(ValueError):
        AccountRef("platform_revenue", "u1", "EUR")
    with pytest.raises(ValueError):
        AccountRef("piggy_bank", "u1", "EUR")
    with pytest.raises(ValueError):
        AccountRef.wallet("u1", "JPY")


def test_sale_line_must_split_exactly() -> None:
    with pytest.raises(UnbalancedEntry):
        SaleLine("p1", "ph", "EUR", 100, 15, 84)


def test_order_entry_merges_postings_per_account() -> None:
    lines = [SaleLine(f"p{i}", "ph1" if i % 2 else "ph2", "EUR", 333, *split_fee(333, 1500))
             for i in range(5)]
    entry = order_entry("cust", "o1", lines)
    by_account = {p.account: p.amount_minor for p in entry.postings}
    assert by_account[AccountRef.wallet("cust", "EUR")] == -5 * 333
    assert by_account[AccountRef.platform_revenue("EUR")] == 5 * 50
    assert by_account[AccountRef.earnings("ph1", "EUR")] == 2 * 283
    assert by_account[AccountRef.earnings("ph2", "EUR")] == 3 * 283
    assert len(entry.postings) == 4
    assert entry.accounts == sorted(by_account)


def test_zero_fee_drops_the_platform_posting() -> None:
    entry = order_entry("cust", "o1", [SaleLine("p", "ph", "EUR", 100, 0, 100)])
    assert {p.account.kind for p in entry.postings} == {"wallet", "earnings"}


@given(st.lists(st.tuples(st.integers(1, 10**7), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=30),
       st.integers(0, 10_000))
def test_order_and_its_reversal_always_balance(items: list[tuple[int, str]], bps: int) -> None:
    lines = [SaleLine(f"p{i}", owner, "EUR", price, *split_fee(price, bps))
             for i, (price, owner) in enumerate(items)]
    entry = order_entry("cust", "o", lines)
    assert set(_sums(entry).values()) == {0}
    refund = reversal_of(entry.postings, "refund", "refund:o")
    net: dict[AccountRef, int] = defaultdict(int)
    for p in entry.postings + refund.postings:
        net[p.account] += p.amount_minor
    assert set(net.values()) == {0}
