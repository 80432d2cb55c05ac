"""The transactions domain's refusals, in its own words; ``transactions.web.ERRORS`` maps them to HTTP.

The photo catalog's own refusals (the sidecar's, through ``photostack.rpc``) arrive already
mapped; these are the ones this function decides itself.
"""

from __future__ import annotations

from photostack.errors import DomainError


class TransactionsError(DomainError):
    pass


class InvalidRequest(TransactionsError):
    """A body, header, query parameter or webhook payload the API cannot take."""


class TooLarge(TransactionsError):
    pass


class Missing(TransactionsError):
    """An order, payment or photo that does not exist, or that the caller may not know of
    (someone else's is reported exactly like a missing one)."""


class NotEntitled(TransactionsError):
    """The caller has not bought what they ask for."""


class StateConflict(TransactionsError):
    """The request clashes with what is already recorded (owned, settled, replayed, changed)."""


class NotPurchasable(TransactionsError):
    """The order is well formed but cannot be bought (own photo, not for sale, mixed currencies)."""


class IdempotencyKeyReused(TransactionsError):
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request body")


class InsufficientFunds(TransactionsError):
    code = "insufficient_funds"

    def __init__(self, currency: str, needed: int, available: int) -> None:
        super().__init__(
            f"wallet balance {available} {currency} is less than the order total {needed} {currency}",
            details={"currency": currency, "needed_minor": needed, "available_minor": available},
        )


class WebhookRejected(TransactionsError):
    code = "invalid_signature"


class Unavailable(TransactionsError):
    """A dependency of the domain (the photo catalog) cannot be asked now."""
