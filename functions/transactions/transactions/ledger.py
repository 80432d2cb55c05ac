"""Double-entry bookkeeping, pure: which accounts move by how much.

Every money movement is one journal entry whose postings sum to zero per
currency. Accounts are named by :class:`AccountRef` (kind, owner, currency);
the repository maps them to rows. The database re-checks the same rule at
commit (a deferred constraint trigger), so a bug here cannot persist an
unbalanced entry.

Accounts:
- ``wallet``: a user's spendable balance; never below zero.
- ``earnings``: what a photographer has earned; may go below zero when a refund
  claws back money already paid out.
- ``platform_revenue``: the platform's fees.
- ``provider_clearing``: the payment provider's side of top-ups; it goes
  negative by what customers have paid in, so the sum over all accounts is zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from transactions.money import CURRENCIES

ACCOUNT_KINDS = ("wallet", "earnings", "platform_revenue", "provider_clearing")
USER_KINDS = ("wallet", "earnings")
ENTRY_KINDS = ("topup", "order", "refund")


class UnbalancedEntry(ValueError):
    """Postings that would create or destroy money."""


@dataclass(frozen=True, order=True)
class AccountRef:
    kind: str
    owner_id: str
    currency: str

    def __post_init__(self) -> None:
        if self.kind not in ACCOUNT_KINDS:
            raise ValueError(f"unknown account kind {self.kind!r}")
        if (self.kind in USER_KINDS) != bool(self.owner_id):
            raise ValueError("user accounts have an owner, platform accounts do not")
        if self.currency not in CURRENCIES:
            raise ValueError(f"unknown currency {self.currency!r}")

    @classmethod
    def wallet(cls, user_id: str, currency: str) -> AccountRef:
        return cls("wallet", user_id, currency)

    @classmethod
    def earnings(cls, user_id: str, currency: str) -> AccountRef:
        return cls("earnings", user_id, currency)

    @classmethod
    def platform_revenue(cls, currency: str) -> AccountRef:
        return cls("platform_revenue", "", currency)

    @classmethod
    def provider_clearing(cls, currency: str) -> AccountRef:
        return cls("provider_clearing", "", currency)


@dataclass(frozen=True)
class Posting:
    account: AccountRef
    amount_minor: int

    @property
    def currency(self) -> str:
        return self.account.currency


@dataclass(frozen=True)
class Entry:
    """A balanced journal entry, ready to be written."""

    kind: str
    reference: str
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        if self.kind not in ENTRY_KINDS:
            raise ValueError(f"unknown entry kind {self.kind!r}")
        check_balanced(self.postings)

    @property
    def accounts(self) -> list[AccountRef]:
        return sorted({p.account for p in self.postings})


def check_balanced(postings: Iterable[Posting]) -> None:
    totals: dict[str, int] = defaultdict(int)
    count = 0
    for p in postings:
        if type(p.amount_minor) is not int or p.amount_minor == 0:
            raise UnbalancedEntry("every posting moves a non-zero integer amount")
        totals[p.currency] += p.amount_minor
        count += 1
    if count < 2:
        raise UnbalancedEntry("an entry needs at least two postings")
    unbalanced = {c: t for c, t in totals.items() if t != 0}
    if unbalanced:
        raise UnbalancedEntry(f"postings do not sum to zero: {unbalanced}")


def merged(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    """One posting per account (amounts added), zero amounts dropped, in account order."""
    sums: dict[AccountRef, int] = defaultdict(int)
    for p in postings:
        sums[p.account] += p.amount_minor
    return tuple(Posting(a, sums[a]) for a in sorted(sums) if sums[a] != 0)


def topup_entry(user_id: str, amount_minor: int, currency: str, payment_id: str) -> Entry:
    return Entry("topup", f"payment:{payment_id}", (
        Posting(AccountRef.wallet(user_id, currency), amount_minor),
        Posting(AccountRef.provider_clearing(currency), -amount_minor),
    ))


@dataclass(frozen=True)
class SaleLine:
    """One photo of an order: the price split between photographer and platform."""

    photo_id: str
    owner_id: str
    currency: str
    price_minor: int
    fee_minor: int
    net_minor: int

    def __post_init__(self) -> None:
        if self.fee_minor + self.net_minor != self.price_minor or min(self.fee_minor, self.net_minor) < 0:
            raise UnbalancedEntry(f"fee and net of {self.photo_id} do not add up to its price")


def order_entry(customer_id: str, order_id: str, lines: Iterable[SaleLine]) -> Entry:
    raw: list[Posting] = []
    for line in lines:
        raw.append(Posting(AccountRef.wallet(customer_id, line.currency), -line.price_minor))
        raw.append(Posting(AccountRef.earnings(line.owner_id, line.currency), line.net_minor))
        raw.append(Posting(AccountRef.platform_revenue(line.currency), line.fee_minor))
    return Entry("order", f"order:{order_id}", merged(raw))


def reversal_of(postings: Iterable[Posting], kind: str, reference: str) -> Entry:
    """The entry that undoes ``postings`` exactly."""
    return Entry(kind, reference, merged(Posting(p.account, -p.amount_minor) for p in postings))
