"""What the transactions API's routes accept and answer, as OpenAPI (see photostack.apispec).

``infra/openapi.py`` joins this with ``app.routes`` into ``docs/openapi.json``; a route of
``app.py`` without an entry here (or an entry without a route) fails that build.
"""

from __future__ import annotations

from photostack import contract
from photostack.apispec import (
    BOOL,
    INT,
    MINOR,
    NTIME,
    PAGE,
    STR,
    TIME,
    UUID,
    ApiSpec,
    Operation,
    enum,
    obj,
    page_of,
)

from transactions import money

CURRENCY = enum(tuple(money.CURRENCIES))

SPEC = ApiSpec(
    schemas={
        "TopupRequest": obj(required=("amount_minor", "currency"),
                            amount_minor={"type": "integer", "minimum": 1, "maximum": 1_000_000},
                            currency=CURRENCY),
        "Payment": obj(required=("payment_id", "status", "amount_minor", "currency", "created_at"),
                       payment_id=UUID, status={"type": "string", "enum": ["pending", "succeeded", "failed"]},
                       amount_minor=MINOR, currency=CURRENCY, created_at=TIME),
        "PaymentEvent": obj(required=("event_id", "payment_id", "status"), event_id=STR, payment_id=UUID,
                            status={"type": "string", "enum": ["succeeded", "failed"]}),
        "PaymentEventResult": obj(required=("payment_id", "status", "credited"), payment_id=UUID,
                                  status=STR, credited=BOOL),
        "Wallets": obj(required=("wallets",), wallets={"type": "array", "items": obj(
            required=("currency", "balance_minor"), currency=CURRENCY, balance_minor=MINOR)}),
        "LedgerLine": obj(extra=True, posting_id=INT, entry_id=INT, entry_kind=STR, reference=STR,
                          account=STR, amount_minor=MINOR, currency=CURRENCY, created_at=TIME),
        "LedgerPage": page_of("entries", "LedgerLine"),
        "OrderRequest": obj(required=("photo_ids",), photo_ids={
            "type": "array", "items": STR, "minItems": 1, "maxItems": 50, "uniqueItems": True}),
        "Order": obj(
            required=("order_id", "status", "currency", "total_minor", "items", "created_at"),
            order_id=UUID, status={"type": "string", "enum": ["paid", "refunded"]}, currency=CURRENCY,
            total_minor=MINOR, created_at=TIME, refunded_at=NTIME,
            items={"type": "array", "items": obj(required=("photo_id", "price_minor"), photo_id=STR,
                                                 price_minor=MINOR)},
        ),
        "OrderPage": page_of("orders", "Order"),
        "Purchase": obj(required=("photo_id", "order_id", "purchased_at"), photo_id=STR, order_id=UUID,
                        purchased_at=TIME),
        "PurchasePage": page_of("purchases", "Purchase"),
        "DownloadGrant": obj(required=("photo_id", "url", "expires_in"), photo_id=STR,
                             url={"type": "string", "description": "presigned GET of the original"},
                             expires_in=INT),
        "Earnings": obj(required=("earnings",), earnings={"type": "array", "items": obj(
            extra=True, required=("currency", "balance_minor", "fee_bps"), currency=CURRENCY,
            balance_minor=MINOR, fee_bps=INT)}),
        "RefundRequest": obj(required=("order_id",), order_id=UUID),
        "Refund": obj(required=("order_id", "status", "revoked", "refunded_minor", "currency"),
                      order_id=UUID, status={"const": "refunded"}, revoked=INT, refunded_minor=MINOR,
                      currency=CURRENCY),
    },
    operations={
        ("POST", "/wallet/topups"): Operation(
            "Start a top-up; the wallet is credited when the provider's webhook confirms it",
            (201, "Payment"), roles=contract.ROLES, body="TopupRequest", idempotency="required",
            errors={400: ("invalid_amount",), 422: ("idempotency_key_reused",)}),
        ("POST", "/wallet/topups/{payment_id}/simulate"): Operation(
            "Local stacks only (404 elsewhere): the simulated provider confirms your own pending top-up, "
            "signed on the server, so a browser never holds the webhook secret", (200, "PaymentEventResult"),
            roles=contract.ROLES,
            errors={404: ("not_found", "payment_not_found"), 409: ("replayed_event", "payment_settled")}),
        ("POST", "/webhooks/payments"): Operation(
            "The payment provider's signed confirmation", (200, "PaymentEventResult"), auth="signature",
            body="PaymentEvent",
            errors={401: ("invalid_signature", "stale_signature"), 404: ("payment_not_found",),
                    409: ("replayed_event", "payment_settled"), 413: ("payload_too_large",)}),
        ("GET", "/wallet"): Operation("Your wallet balances", (200, "Wallets"), roles=contract.ROLES),
        ("GET", "/wallet/ledger"): Operation("Your ledger postings, newest first", (200, "LedgerPage"),
                                             roles=contract.ROLES, query=PAGE),
        ("POST", "/orders"): Operation(
            "Buy photos from the wallet (replays with the same key return the same order)",
            (201, "Order"), roles=contract.ROLES, body="OrderRequest", idempotency="required",
            errors={402: ("insufficient_funds",), 404: ("photo_not_found",),
                    409: ("already_owned", "photo_changed"),
                    422: ("own_photo", "not_for_sale", "mixed_currencies", "idempotency_key_reused"),
                    503: ("catalog_unavailable",)}),
        ("GET", "/orders"): Operation("Your orders", (200, "OrderPage"), roles=contract.ROLES, query=PAGE),
        ("GET", "/orders/{order_id}"): Operation("One of your orders", (200, "Order"),
                                                 roles=contract.ROLES, errors={404: ("order_not_found",)}),
        ("GET", "/purchases"): Operation("Photos you bought", (200, "PurchasePage"), roles=contract.ROLES,
                                         query=PAGE),
        ("GET", "/purchases/{photo_id}/download"): Operation(
            "A presigned URL of the original (its photographer and buyers only), granted only while the "
            "stored original is the object whose SHA-256 was recorded when it was processed",
            (200, "DownloadGrant"), roles=contract.ROLES,
            errors={403: ("not_entitled",), 404: ("photo_not_found",),
                    409: ("original_changed", "original_unverified"), 503: ("catalog_unavailable",)}),
        ("GET", "/earnings"): Operation("Your earnings as a photographer", (200, "Earnings"),
                                        roles=(contract.PHOTOGRAPHER, contract.ADMIN)),
        ("POST", "/admin/refunds"): Operation(
            "Refund an order: reverse its entry, revoke its entitlements", (200, "Refund"),
            roles=(contract.ADMIN,), body="RefundRequest", errors={404: ("order_not_found",)}),
    },
)
