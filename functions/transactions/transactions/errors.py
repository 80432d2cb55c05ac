"""Domain failures of the transactions domain, each with its HTTP status and code."""

from __future__ import annotations

from photostack import errors


class PaymentRequired(errors.ApiError):
    status = 402
    code = "insufficient_funds"


class InsufficientFunds(PaymentRequired):
    def __init__(self, currency: str, needed: int, available: int) -> None:
        super().__init__(
            f"wallet balance {available} {currency} is less than the order total {needed} {currency}",
            details={"currency": currency, "needed_minor": needed, "available_minor": available},
        )


class IdempotencyKeyReused(errors.Unprocessable):
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request body")


class WebhookRejected(errors.Unauthorized):
    code = "invalid_signature"
