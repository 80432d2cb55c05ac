"""Order and top-up rules, pure: validation, pricing and request fingerprints."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from transactions import money
from transactions.catalog import CatalogPhoto
from transactions.errors import InvalidRequest, Missing, NotPurchasable
from transactions.ledger import SaleLine

MAX_PHOTOS_PER_ORDER = 50
# Opaque client-chosen keys; bounded and printable so they are safe to store and log.
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")
PHOTO_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def canonical_photo_id(value: str) -> str:
    """A uuid in its one lower-case spelling; anything else as given (it will not be found)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def idempotency_key(headers: dict[str, str]) -> str:
    key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), None)
    if key is None or not key.strip():
        raise InvalidRequest("the Idempotency-Key header is required", code="missing_idempotency_key")
    key = key.strip()
    if not IDEMPOTENCY_KEY_RE.match(key):
        raise InvalidRequest("Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 . _ : -",
                             code="invalid_idempotency_key")
    return key


def fingerprint(body: dict[str, Any]) -> str:
    """Identifies a request body regardless of key order or whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class TopupRequest:
    amount_minor: int
    currency: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> TopupRequest:
        unknown = set(body) - {"amount_minor", "currency"}
        if unknown:
            raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}")
        if "amount_minor" not in body or "currency" not in body:
            raise InvalidRequest("amount_minor and currency are required")
        try:
            amount = money.parse_amount(body["amount_minor"], maximum=money.MAX_TOPUP_MINOR)
            currency = money.check_currency(body["currency"])
        except money.MoneyError as exc:
            raise InvalidRequest(str(exc), code="invalid_amount") from exc
        return cls(amount, currency)

    def fingerprint(self) -> str:
        return fingerprint({"amount_minor": self.amount_minor, "currency": self.currency})


@dataclass(frozen=True)
class OrderRequest:
    photo_ids: tuple[str, ...]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> OrderRequest:
        unknown = set(body) - {"photo_ids"}
        if unknown:
            raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}")
        ids = body.get("photo_ids")
        if not isinstance(ids, list) or not ids:
            raise InvalidRequest("photo_ids must be a non-empty list of photo ids")
        if len(ids) > MAX_PHOTOS_PER_ORDER:
            raise InvalidRequest(f"an order holds at most {MAX_PHOTOS_PER_ORDER} photos")
        if not all(isinstance(i, str) and PHOTO_ID_RE.match(i) for i in ids):
            raise InvalidRequest("every photo id must be a non-empty string of A-Z a-z 0-9 . _ : -")
        # Photo ids are uuids: one spelling (lower case), so entitlements match the sidecar's ids.
        ids = [canonical_photo_id(i) for i in ids]
        if len(set(ids)) != len(ids):
            raise InvalidRequest("photo_ids must not repeat a photo")
        return cls(tuple(ids))

    def fingerprint(self) -> str:
        # The same photos in another order are the same purchase.
        return fingerprint({"photo_ids": sorted(self.photo_ids)})


def price_order(customer_id: str, photo_ids: tuple[str, ...], photos: dict[str, CatalogPhoto],
                fee_bps: int) -> list[SaleLine]:
    """The sale lines of an order, or the refusal that says why it cannot be bought."""
    missing = [pid for pid in photo_ids if pid not in photos]
    if missing:
        raise Missing(f"photos not found: {', '.join(missing)}", code="photo_not_found")
    lines: list[SaleLine] = []
    for pid in photo_ids:
        photo = photos[pid]
        if photo.owner_id == customer_id:
            raise NotPurchasable(f"photo {pid} is your own", code="own_photo")
        if not photo.for_sale or photo.price_minor <= 0:
            raise NotPurchasable(f"photo {pid} is not for sale", code="not_for_sale")
        if photo.currency not in money.CURRENCIES or photo.price_minor > money.MAX_AMOUNT_MINOR:
            raise NotPurchasable(f"photo {pid} has a price the platform cannot charge",
                                 code="not_for_sale")
        fee, net = money.split_fee(photo.price_minor, fee_bps)
        lines.append(SaleLine(pid, photo.owner_id, photo.currency, photo.price_minor, fee, net))
    if len({line.currency for line in lines}) > 1:
        raise NotPurchasable("all photos of one order must be priced in the same currency",
                             code="mixed_currencies")
    return lines
