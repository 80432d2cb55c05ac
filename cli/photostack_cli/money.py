"""Amounts typed by people ("12.50") to and from the APIs' integer minor units."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# The platform's currencies all have two decimals (transactions.money.CURRENCIES).
DECIMALS = 2


def to_minor(amount: str) -> int:
    try:
        value = Decimal(amount.strip())
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not an amount (write e.g. 12.50)") from exc
    if not value.is_finite() or value <= 0:
        raise ValueError("the amount must be positive")
    minor = value * (10**DECIMALS)
    if minor != minor.to_integral_value():
        raise ValueError(f"at most {DECIMALS} decimals")
    return int(minor)


def show(minor: int | None, currency: str | None) -> str:
    if minor is None or not currency:
        return "-"
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(int(minor)), 10**DECIMALS)
    return f"{sign}{whole}.{cents:0{DECIMALS}d} {currency}"
