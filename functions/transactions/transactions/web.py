"""The transactions API's edge: its domain errors as HTTP errors, in one table, and outages as 503."""

from __future__ import annotations

import psycopg2
from photostack import errors

from transactions import errors as e


class PaymentRequired(errors.ApiError):
    status = 402
    code = "payment_required"


ERRORS = errors.ErrorTable(
    (e.InvalidRequest, errors.BadRequest),
    (e.TooLarge, errors.PayloadTooLarge),
    (e.WebhookRejected, errors.Unauthorized),
    (e.InsufficientFunds, PaymentRequired),
    (e.NotEntitled, errors.Forbidden),
    (e.Missing, errors.NotFound),
    (e.StateConflict, errors.Conflict),
    (e.IdempotencyKeyReused, errors.Unprocessable),
    (e.NotPurchasable, errors.Unprocessable),
    (e.Unavailable, errors.ServiceUnavailable),
    # A database that cannot be reached is a 503 the client may retry, not a 500.
    outages=errors.Outages((psycopg2.OperationalError, psycopg2.InterfaceError),
                           "the database is unavailable; retry later", code="database_unavailable",
                           retry_after_s=1),
)
