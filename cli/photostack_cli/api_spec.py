"""What the routes of the three APIs accept and answer, as OpenAPI schemas.

One :class:`Operation` per ``(method, path)`` of the Chalice apps. The generator in
``photostack_cli.openapi`` walks the apps' route tables and refuses a route that has
no entry here (or an entry without a route), so a new route cannot ship undescribed.
Errors implied by how a view is built (a bearer token, a role check, a JSON body, an
Idempotency-Key) are added by the generator; ``errors`` lists the domain's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: tuple[str, ...] = (), extra: bool = False, **props: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": props, "additionalProperties": extra}
    if required:
        schema["required"] = list(required)
    return schema


def page_of(key: str, item: str) -> Schema:
    props: dict[str, Schema] = {
        key: {"type": "array", "items": ref(item)},
        "next_cursor": {"type": ["string", "null"], "description": "pass as ?cursor= for the next page"},
    }
    return obj((key, "next_cursor"), False, **props)


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
UUID: Schema = {"type": "string", "format": "uuid"}
TIME: Schema = {"type": "string", "format": "date-time"}
NTIME: Schema = {"type": ["string", "null"], "format": "date-time"}
ROLE: Schema = {"type": "string", "enum": ["customer", "photographer", "admin"]}
CURRENCY: Schema = {"type": "string", "enum": ["EUR", "USD", "GBP", "CHF"]}
MINOR: Schema = {"type": "integer", "description": "amount in minor units (cents)"}
VISIBILITY: Schema = {"type": "string", "enum": ["public", "private"]}
# The photo service stores the subject of the caller's token as it is: a UUID for accounts of the
# users API, but not promised to be one (Schemathesis found events of test-minted subjects).
OWNER_ID: Schema = {"type": "string", "description": "the photographer's user id"}

SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        required=("error",),
        error=obj(
            required=("code", "message"),
            code={"type": "string", "description": "stable, machine-readable (e.g. email_taken)"},
            message={"type": "string", "description": "for people"},
            details={"type": "object", "additionalProperties": True},
        ),
    ),
    "Health": obj(required=("status",), status={"const": "ok"}, service=STR,
                  degraded={"type": "array", "items": STR,
                            "description": "dependencies that are down but not needed (e.g. redis)"}),
    # users
    "Registration": obj(
        required=("email", "password", "display_name", "role"),
        email={"type": "string", "format": "email"},
        password={"type": "string", "minLength": 8, "maxLength": 128},
        display_name=STR,
        role={"type": "string", "enum": ["customer", "photographer"]},
    ),
    "Credentials": obj(required=("email", "password"), email=STR, password=STR),
    "RefreshRequest": obj(required=("refresh_token",), refresh_token=STR),
    "User": obj(required=("id", "email", "display_name", "role", "disabled", "created_at"),
                id=UUID, email=STR, display_name=STR, role=ROLE, disabled=BOOL, created_at=TIME),
    "PublicUser": obj(required=("id", "display_name", "role"), id=UUID, display_name=STR, role=ROLE),
    "Tokens": obj(
        required=("access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in", "user"),
        access_token={"type": "string", "description": "HS256 JWT; send as Authorization: Bearer"},
        token_type={"const": "Bearer"},
        expires_in=INT,
        refresh_token={"type": "string", "description": "single use: each refresh returns a new one"},
        refresh_expires_in=INT,
        user=ref("User"),
    ),
    "ProfileChange": obj(display_name=STR, password=STR, current_password=STR),
    "AdminChange": obj(role=ROLE, disabled=BOOL),
    # photos
    "NewEvent": obj(required=("name", "date"), name={"type": "string", "maxLength": 200},
                    date={"type": "string", "format": "date"}, place=STR, visibility=VISIBILITY),
    "Event": obj(required=("id", "owner_id", "name", "date", "place", "visibility", "created_at"),
                 id=UUID, owner_id=OWNER_ID, name=STR, date=STR, place=STR, visibility=VISIBILITY,
                 created_at=NTIME),
    "EventPage": page_of("events", "Event"),
    "Derivative": obj(required=("url", "width", "height", "bytes", "content_type"),
                      url={"type": "string", "description": "presigned GET, short-lived"},
                      width=INT, height=INT, bytes=INT, content_type=STR),
    "Photo": obj(
        required=("id", "event_id", "owner_id", "status", "visibility", "price", "access", "derivatives"),
        id=UUID, event_id=UUID, owner_id=OWNER_ID,
        status={"type": "string", "enum": ["pending", "ready", "failed"]},
        visibility=VISIBILITY,
        price={"oneOf": [obj(required=("minor", "currency"), minor=MINOR, currency=STR), {"type": "null"}]},
        width={"type": ["integer", "null"]}, height={"type": ["integer", "null"]},
        captured_at=NTIME, camera={"type": ["string", "null"]}, created_at=NTIME, updated_at=NTIME,
        access={"type": "string", "enum": ["full", "preview"],
                "description": "full: the photographer, a buyer of the photo or an admin, who get every "
                               "size; preview: everyone else, who get only the thumbnail and the "
                               "watermarked preview"},
        derivatives={"type": "object", "additionalProperties": ref("Derivative"),
                     "description": "by kind (<size>_<format>, e.g. thumb_jpg, preview_webp, web_jpg); "
                                    "with access preview only thumb_* and preview_* (watermarked) are "
                                    "present, the clean web_* sizes come with access full"},
        content_type={"type": "string", "description": "owner only"},
        size_bytes={"type": "integer", "description": "owner only"},
        sha256={"type": ["string", "null"], "description": "owner only"},
        failure_reason={"type": ["string", "null"], "description": "owner only; set when failed"},
        faces={"oneOf": [obj(required=("count", "indexed_at"), count=INT, indexed_at=TIME), {"type": "null"}],
               "description": "owner only; null until indexed for face search (count 0: no face found)"},
        bib=obj(required=("number", "confidence", "box"), number=STR,
                confidence={"type": "number", "minimum": 0, "maximum": 1},
                box={"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
                     "description": "x1, y1, x2, y2 in pixels of the web size"}) | {
            "description": "only in answers to ?bib=: where and how surely that number was read"},
    ),
    "PhotoPage": page_of("photos", "Photo"),
    "Selfie": obj(required=("image_base64",), image_base64={
        "type": "string",
        "description": "JPEG, PNG or WebP, base64 (a data: URL too); at most 5 MiB decoded"}),
    "FaceMatch": obj(required=("photo_id", "score", "thumb_url"), photo_id=UUID,
                     score={"type": "number", "description": "cosine similarity of the best face, 0.35-1"},
                     thumb_url={"type": ["string", "null"], "description": "presigned GET, short-lived"}),
    "FaceMatchPage": page_of("matches", "FaceMatch"),
    "FaceIndexingChange": obj(required=("enabled",), enabled=BOOL, image_base64={
        "type": "string", "description": "required to opt out: your selfie; only its embedding is kept"}),
    "FaceIndexing": obj(required=("enabled", "reference_stored"), enabled=BOOL, reference_stored=BOOL,
                        notice=STR),
    "PhotoPatch": obj(price_minor=MINOR, currency={"type": "string", "maxLength": 3}, visibility=VISIBILITY),
    # UploadRequest: built by upload_request() from the photos domain's limits.
    "PresignedPut": obj(
        required=("method", "url", "expires_in", "headers"), method={"const": "PUT"},
        url={"type": "string", "description": "PUT the bytes here with exactly these headers"},
        expires_in=INT, headers={"type": "object", "additionalProperties": STR},
    ),
    "PresignedMultipart": obj(
        required=("method", "upload_id", "parts", "expires_in", "complete_path"),
        method={"const": "MULTIPART"}, upload_id=STR, expires_in=INT,
        parts={"type": "array", "items": obj(required=("part_number", "size_bytes", "url"),
                                             part_number=INT, size_bytes=INT, url=STR)},
        complete_path={"type": "string", "description": "POST the ETags here when every part is sent"},
    ),
    "UploadStarted": obj(
        required=("photo_id", "event_id", "status", "upload"), photo_id=UUID, event_id=UUID,
        status={"const": "pending"},
        upload={"oneOf": [ref("PresignedPut"), ref("PresignedMultipart")]},
    ),
    "UploadCompletion": obj(
        required=("upload_id", "parts"), upload_id=STR,
        parts={"type": "array", "minItems": 1,
               "items": obj(required=("part_number", "etag"), part_number=INT, etag=STR)},
    ),
    "UploadCompleted": obj(required=("photo_id", "status"), photo_id=UUID, status={"const": "pending"}),
    # transactions
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
}


@dataclass(frozen=True)
class UploadLimits:
    """The photos API's upload rules (``photos.domain``), so the document states the real ones."""

    content_types: tuple[str, ...]
    max_bytes: int
    multipart_threshold: int
    part_bytes: int


def upload_schemas(limits: UploadLimits) -> dict[str, Schema]:
    mib = 1024 * 1024
    return {
        "UploadRequest": obj(
            required=("event_id", "content_type", "size_bytes"), event_id=UUID,
            content_type={"type": "string", "enum": list(limits.content_types)},
            size_bytes={"type": "integer", "minimum": 1, "maximum": limits.max_bytes},
            filename=STR,
        ),
        "UploadStarted": {**SCHEMAS["UploadStarted"], "description": (
            f"upload.method is PUT up to {limits.multipart_threshold // mib} MiB, MULTIPART above "
            f"(parts of {limits.part_bytes // mib} MiB, the last one smaller)")},
    }


@dataclass(frozen=True)
class Operation:
    summary: str
    ok: tuple[int, str | None]  # status and response schema (None: no body)
    auth: str | None = "bearer"  # bearer | refresh_token | signature | None
    roles: tuple[str, ...] = ()
    body: str | None = None
    idempotency: str | None = None  # "required" | "optional"
    query: tuple[str, ...] = ()  # cursor, limit, mine
    errors: dict[int, tuple[str, ...]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # extra request headers: name -> description


PAGE = ("cursor", "limit")
ANY_ROLE = ("customer", "photographer", "admin")

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation(
        "Liveness and dependencies (PostgreSQL, Redis)", (200, "Health"), auth=None,
        errors={503: ("service_unavailable", "database_unavailable")}),
    # ---- users
    ("POST", "/auth/register"): Operation(
        "Create an account (customer or photographer); limited per client address", (201, "User"),
        auth=None, body="Registration",
        errors={400: ("validation_error", "weak_password"), 409: ("email_taken",),
                429: ("too_many_registrations",)}),
    ("POST", "/auth/login"): Operation(
        "Sign in: an access token and a refresh token", (200, "Tokens"), auth=None, body="Credentials",
        errors={401: ("invalid_credentials", "account_disabled"), 429: ("too_many_attempts",)}),
    ("POST", "/auth/refresh"): Operation(
        "Trade a refresh token for new tokens (rotation; reuse revokes the login)", (200, "Tokens"),
        auth="refresh_token", body="RefreshRequest",
        errors={401: ("invalid_refresh_token", "refresh_token_reused", "session_expired",
                      "account_disabled")}),
    ("POST", "/auth/logout"): Operation(
        "Revoke the refresh token's whole login", (204, None), auth="refresh_token", body="RefreshRequest"),
    ("GET", "/users/me"): Operation("The signed-in account", (200, "User")),
    ("PATCH", "/users/me"): Operation(
        "Change display name and/or password (needs current_password)", (200, "User"),
        body="ProfileChange", errors={400: ("validation_error", "weak_password"),
                                      401: ("invalid_credentials",), 429: ("too_many_attempts",)}),
    ("GET", "/users/{user_id}"): Operation(
        "A public profile (never the email)", (200, "PublicUser"), auth=None, errors={404: ("not_found",)}),
    ("PATCH", "/admin/users/{user_id}"): Operation(
        "Change an account's role or disable it", (200, "User"), roles=("admin",), body="AdminChange",
        errors={400: ("validation_error",), 403: ("not_allowed",), 404: ("not_found",)}),
    # ---- photos
    ("POST", "/events"): Operation(
        "Create an event", (201, "Event"), roles=("photographer", "admin"), body="NewEvent",
        idempotency="optional", errors={400: ("invalid_field", "unknown_field"), 409: ("conflict",)}),
    ("GET", "/events"): Operation("Events you can see", (200, "EventPage"), query=(*PAGE, "mine")),
    ("GET", "/events/{event_id}"): Operation("One event", (200, "Event"), errors={404: ("not_found",)}),
    ("GET", "/events/{event_id}/photos"): Operation(
        "An event's photos, page by page; with ?bib= only the photos where that bib number was "
        "read, surest first", (200, "PhotoPage"), query=(*PAGE, "bib"),
        errors={400: ("bad_request",), 404: ("not_found",)}),
    ("GET", "/photos/{photo_id}"): Operation("One photo", (200, "Photo"), errors={404: ("not_found",)}),
    ("PATCH", "/photos/{photo_id}"): Operation(
        "Set a photo's price or visibility (its photographer)", (200, "Photo"), body="PhotoPatch",
        errors={400: ("invalid_field", "unknown_field"), 403: ("forbidden",), 404: ("not_found",)}),
    ("DELETE", "/photos/{photo_id}"): Operation(
        "Delete a photo (its photographer): with its files when nobody bought it; a sold photo is "
        "unlisted instead (gone from browsing, search and sale; its buyers keep their downloads)",
        (204, None),
        errors={403: ("forbidden",), 404: ("not_found",)}),
    ("POST", "/uploads"): Operation(
        "Reserve a photo and get a presigned upload (one PUT, or multipart for big files); replaying "
        "the Idempotency-Key of a photo that is no longer pending is a 409 with no upload URL",
        (201, "UploadStarted"),
        roles=("photographer",), body="UploadRequest", idempotency="optional",
        errors={400: ("invalid_field", "unknown_field"), 404: ("not_found",), 403: ("forbidden",),
                409: ("conflict",), 413: ("upload_too_large",), 415: ("unsupported_content_type",)}),
    ("POST", "/events/{event_id}/face-search"): Operation(
        "Find your photos in an event from one selfie (exactly one face), best first; faces of "
        "people who opted out are never found; limited per account and per client address "
        "(429 with Retry-After)",
        (200, "FaceMatchPage"), body="Selfie", query=PAGE,
        errors={400: ("invalid_image", "not_an_image"), 404: ("not_found",),
                413: ("image_too_large", "payload_too_large"), 422: ("no_face", "several_faces"),
                429: ("rate_limited",), 503: ("face_models_unavailable",)}),
    ("PUT", "/users/me/face-indexing"): Operation(
        "Opt out of (or back into) face search: faces matching your selfie are left out of every "
        "search, yours included (from the next search on)", (200, "FaceIndexing"),
        body="FaceIndexingChange",
        errors={400: ("invalid_image", "not_an_image", "bad_request"),
                413: ("image_too_large", "payload_too_large"), 422: ("no_face", "several_faces")}),
    ("POST", "/uploads/{photo_id}/complete"): Operation(
        "Complete a multipart upload with the parts' ETags", (200, "UploadCompleted"),
        roles=("photographer",), body="UploadCompletion",
        errors={400: ("invalid_field", "invalid_upload"), 403: ("forbidden",), 404: ("not_found",),
                409: ("upload_complete",), 413: ("upload_too_large",)}),
    # ---- transactions
    ("POST", "/wallet/topups"): Operation(
        "Start a top-up; the wallet is credited when the provider's webhook confirms it", (201, "Payment"),
        roles=ANY_ROLE, body="TopupRequest", idempotency="required",
        errors={400: ("invalid_amount",), 422: ("idempotency_key_reused",)}),
    ("POST", "/wallet/topups/{payment_id}/simulate"): Operation(
        "Local stacks only (404 elsewhere): the simulated provider confirms your own pending top-up, "
        "signed on the server, so a browser never holds the webhook secret", (200, "PaymentEventResult"),
        roles=ANY_ROLE,
        errors={404: ("not_found", "payment_not_found"), 409: ("replayed_event", "payment_settled")}),
    ("POST", "/webhooks/payments"): Operation(
        "The payment provider's signed confirmation", (200, "PaymentEventResult"), auth="signature",
        body="PaymentEvent",
        errors={401: ("invalid_signature", "stale_signature"), 404: ("payment_not_found",),
                409: ("replayed_event", "payment_settled"), 413: ("payload_too_large",)}),
    ("GET", "/wallet"): Operation("Your wallet balances", (200, "Wallets"), roles=ANY_ROLE),
    ("GET", "/wallet/ledger"): Operation("Your ledger postings, newest first", (200, "LedgerPage"),
                                         roles=ANY_ROLE, query=PAGE),
    ("POST", "/orders"): Operation(
        "Buy photos from the wallet (replays with the same key return the same order)", (201, "Order"),
        roles=ANY_ROLE, body="OrderRequest", idempotency="required",
        errors={402: ("insufficient_funds",), 404: ("photo_not_found",),
                409: ("already_owned", "photo_changed"),
                422: ("own_photo", "not_for_sale", "mixed_currencies", "idempotency_key_reused"),
                503: ("catalog_unavailable",)}),
    ("GET", "/orders"): Operation("Your orders", (200, "OrderPage"), roles=ANY_ROLE, query=PAGE),
    ("GET", "/orders/{order_id}"): Operation("One of your orders", (200, "Order"),
                                             roles=ANY_ROLE, errors={404: ("order_not_found",)}),
    ("GET", "/purchases"): Operation("Photos you bought", (200, "PurchasePage"), roles=ANY_ROLE, query=PAGE),
    ("GET", "/purchases/{photo_id}/download"): Operation(
        "A presigned URL of the original (its photographer and buyers only), granted only while the "
        "stored original is the object whose SHA-256 was recorded when it was processed",
        (200, "DownloadGrant"), roles=ANY_ROLE,
        errors={403: ("not_entitled",), 404: ("photo_not_found",),
                409: ("original_changed", "original_unverified"), 503: ("catalog_unavailable",)}),
    ("GET", "/earnings"): Operation("Your earnings as a photographer", (200, "Earnings"),
                                    roles=("photographer", "admin")),
    ("POST", "/admin/refunds"): Operation(
        "Refund an order: reverse its entry, revoke its entitlements", (200, "Refund"), roles=("admin",),
        body="RefundRequest", errors={404: ("order_not_found",)}),
}

QUERY: dict[str, Schema] = {
    "cursor": {"name": "cursor", "in": "query", "required": False, "schema": STR,
               "description": "next_cursor of the previous page"},
    "limit": {"name": "limit", "in": "query", "required": False,
              "schema": {"type": "integer", "minimum": 1}, "description": "page size"},
    "mine": {"name": "mine", "in": "query", "required": False, "schema": {"type": "boolean"},
             "description": "only the caller's own events"},
    "bib": {"name": "bib", "in": "query", "required": False,
            "schema": {"type": "string", "pattern": "^[A-Za-z]?[0-9]{1,6}$"},
            "description": "a bib number (1-6 digits, optionally after one letter): only the photos "
                           "where it was read, surest first"},
}
