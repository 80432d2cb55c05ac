"""Amounts: integer minor units with an ISO 4217 code; never floats.

Amounts arriving from clients are validated here, so a float, a bool, a string or
an absurd number never reaches the ledger.
"""

from __future__ import annotations

from typing import Any

# Currencies the platform settles in, with their minor-unit exponent.
CURRENCIES: dict[str, int] = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2}

# One top-up at most this many minor units (10 000.00 in a 2-decimal currency);
# a larger number is a typo or an attack, not a customer.
MAX_TOPUP_MINOR = 1_000_000
# Bound on any single amount the ledger accepts: far below bigint overflow even
# when thousands of them are summed.
MAX_AMOUNT_MINOR = 10**12


class MoneyError(ValueError):
    """An amount or currency that the platform does not accept."""


def check_currency(value: Any) -> str:
    if not isinstance(value, str) or value not in CURRENCIES:
        raise MoneyError("currency must be one of " + ", ".join(sorted(CURRENCIES)))
    return value


def parse_amount(value: Any, *, maximum: int, minimum: int = 1) -> int:
    """A client-supplied amount in minor units: a JSON integer within bounds."""
    # bool is an int subclass and float 10.0 == 10: both are refused outright.
    if type(value) is not int:
        raise MoneyError("amount_minor must be an integer number of minor units")
    if value < minimum:
        raise MoneyError(f"amount_minor must be at least {minimum}")
    if value > maximum:
        raise MoneyError(f"amount_minor must be at most {maximum}")
    return value


def split_fee(price_minor: int, fee_bps: int) -> tuple[int, int]:
    """``(fee, net)`` of one sale; ``fee + net == price`` exactly.

    The fee is rounded half up to whole minor units and the photographer gets
    the remainder, so rounding moves cents between the two, never creates or
    loses one.
    """
    if type(price_minor) is not int or price_minor < 0:
        raise MoneyError("price must be a non-negative integer")
    if type(fee_bps) is not int or not 0 <= fee_bps <= 10_000:
        raise MoneyError("fee must be between 0 and 10000 basis points")
    fee = (price_minor * fee_bps + 5_000) // 10_000
    return fee, price_minor - fee
