"""Use cases of the transactions domain. Adapters (database, catalog, presigner) are passed in.

Every money movement is one database transaction that claims its idempotency
key, locks the accounts it touches in ascending id order, writes one balanced
journal entry and the rows that go with it (order, items, entitlements;
payment state), and commits, or leaves nothing behind.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.errorcodes
from photostack import contract
from photostack.db import Database, dict_cursor
from photostack.tokens import Principal

from transactions import domain, ledger, webhooks
from transactions import repository as repo
from transactions.catalog import CatalogPhoto, CatalogUnavailable, PhotoCatalog
from transactions.errors import (
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidRequest,
    Missing,
    NotEntitled,
    StateConflict,
    Unavailable,
)
from transactions.ledger import AccountRef
from transactions.presign import Presigner


@dataclass(frozen=True)
class Outcome:
    body: dict[str, Any]
    status: int = 200
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def encode_cursor(position: int) -> str:
    return contract.encode_cursor(f"v1:{position}")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    try:
        prefix, _, number = contract.decode_cursor(cursor).partition(":")
        if prefix != "v1" or not number.isdigit():
            raise ValueError(cursor)
        return int(number)
    except ValueError as exc:  # contract.InvalidCursor among them
        raise InvalidRequest("cursor is not valid", code="invalid_cursor") from exc


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _payment_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "payment_id": str(row["id"]),
        "status": row["status"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "created_at": _iso(row["created_at"]),
    }


def _sees_private_events(buyer: Principal | None) -> bool:
    """Whether the catalog read as ``buyer`` shows photos of private events to them (the
    sidecar's rule: privileged roles do); the re-check under the sale hold applies the same."""
    return buyer is not None and buyer.role in contract.PRIVILEGED_ROLES


def _is_unique_violation(exc: psycopg2.Error, constraint: str) -> bool:
    diag = getattr(exc, "diag", None)
    return (exc.pgcode == psycopg2.errorcodes.UNIQUE_VIOLATION
            and diag is not None and diag.constraint_name == constraint)


class TransactionsService:
    def __init__(self, db: Database, catalog: PhotoCatalog, presigner: Presigner, *, fee_bps: int,
                 webhook_secret: str | webhooks.SecretSource, uploads_bucket: str, presign_ttl_s: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.catalog = catalog
        self.presigner = presigner
        self.fee_bps = fee_bps
        # A plain string never rotates (tests); the function passes the cached, re-read secret.
        self.webhook_secrets = (webhooks.FixedSecret(webhook_secret) if isinstance(webhook_secret, str)
                                else webhook_secret)
        self.uploads_bucket = uploads_bucket
        self.presign_ttl_s = presign_ttl_s
        self.clock = clock
        self.accounts = repo.AccountDirectory(db)

    @property
    def webhook_secret(self) -> str:
        """The webhook secret as of now (the local simulated provider signs with it)."""
        return self.webhook_secrets.current()

    def health(self) -> None:
        """Raises (psycopg2.Error) unless the ledger's database answers."""
        with self.db.cursor() as cur:
            cur.execute("SELECT 1 FROM accounts LIMIT 1")

    # ---- top-ups and the provider's webhook ---------------------------------

    def start_topup(self, user_id: str, key: str, request: domain.TopupRequest) -> Outcome:
        """A pending payment; the wallet is credited when the provider's webhook confirms it."""
        request_hash = request.fingerprint()
        # Created now so the webhook only has to lock them.
        self.accounts.ids([AccountRef.wallet(user_id, request.currency),
                           AccountRef.provider_clearing(request.currency)])
        with self.db.connection() as conn, dict_cursor(conn) as cur:
            row = repo.insert_payment(cur, str(uuid.uuid4()), user_id, key, request_hash,
                                      request.amount_minor, request.currency)
            if row is not None:
                return Outcome(_payment_view(row), 201)
            existing = repo.payment_by_key(cur, user_id, key)
        if existing is None or existing["request_hash"] != request_hash:
            raise IdempotencyKeyReused()
        return Outcome(_payment_view(existing), 201, replayed=True)

    def handle_payment_webhook(self, signature: str | None, body: bytes) -> Outcome:
        webhooks.verify_current(self.webhook_secrets, signature, body, now=self.clock())
        event = webhooks.PaymentEvent.parse(body)
        with self.db.cursor() as cur:
            found = repo.payment(cur, event.payment_id)
        if found is None:
            raise Missing("payment not found", code="payment_not_found")
        wallet = AccountRef.wallet(found["user_id"], found["currency"])
        ids = self.accounts.ids([wallet, AccountRef.provider_clearing(found["currency"])],
                                spread_key=f"payment:{found['id']}")
        with self.db.connection() as conn, dict_cursor(conn) as cur:
            payment = repo.payment(cur, event.payment_id, for_update=True)
            assert payment is not None  # payments are never deleted
            if not repo.record_webhook_event(cur, event.event_id, event.payment_id, event.status):
                raise StateConflict("this webhook event was already processed", code="replayed_event")
            credited = False
            if payment["status"] == "pending":
                entry_id = None
                if event.status == "succeeded":
                    entry = ledger.topup_entry(payment["user_id"], payment["amount_minor"],
                                               payment["currency"], str(payment["id"]))
                    repo.lock_accounts(cur, ids.values())
                    entry_id = repo.post_entry(cur, entry, ids)
                    credited = True
                repo.settle_payment(cur, event.payment_id, event.status, entry_id)
            elif payment["status"] != event.status:
                raise StateConflict(f"payment is already {payment['status']}", code="payment_settled")
        return Outcome({"payment_id": event.payment_id, "status": event.status, "credited": credited})

    # ---- orders -------------------------------------------------------------

    def _replay_order(self, existing: dict[str, Any], request_hash: str) -> Outcome:
        if existing["request_hash"] != request_hash:
            raise IdempotencyKeyReused()
        return Outcome(existing["response"], 201, replayed=True)

    def _catalog_photos(self, request: domain.OrderRequest,
                        buyer: Principal | None) -> dict[str, CatalogPhoto]:
        try:
            return self.catalog.get_photos(list(request.photo_ids), user=buyer)
        except CatalogUnavailable as exc:
            raise Unavailable("the photo catalog is unavailable; retry later",
                              code="catalog_unavailable") from exc

    def _replay_if_claimed(self, customer_id: str, key: str, request_hash: str) -> Outcome | None:
        with self.db.cursor() as cur:
            existing = repo.order_by_key(cur, customer_id, key)
        return None if existing is None else self._replay_order(existing, request_hash)

    def place_order(self, customer_id: str, key: str, request: domain.OrderRequest, *,
                    buyer: Principal | None = None) -> Outcome:
        """``buyer``: the customer's verified principal; the catalog is read on their behalf.

        The common case costs one catalog read before the transaction and one round trip to
        PostgreSQL (the ``place_order_checked`` SQL function, the whole transaction), where
        the key is claimed (a replay is found there too). Only when the order cannot be
        priced now (a photo unlisted since, the catalog down) is the key looked up on its
        own, so that a replay still answers what the first request got.
        """
        assert buyer is None or buyer.user_id == customer_id
        request_hash = request.fingerprint()
        # Ask the catalog before the transaction: no row lock waits on the network.
        try:
            lines = domain.price_order(customer_id, request.photo_ids, self._catalog_photos(request, buyer),
                                       self.fee_bps)
        except Exception:
            # Whatever stops the pricing now (a refusal of ours, or of the catalog, whose client
            # raises the sidecar's answers as HTTP errors), a key already answered gets that answer.
            replay = self._replay_if_claimed(customer_id, key, request_hash)
            if replay is not None:
                return replay
            raise
        currency = lines[0].currency
        total = sum(line.price_minor for line in lines)
        order_id = repo.new_order_id()  # time-ordered: see there
        entry = ledger.order_entry(customer_id, order_id, lines)
        wallet = AccountRef.wallet(customer_id, currency)
        # Each sharded account (platform revenue, earnings) gets the shard of this order.
        ids = self.accounts.ids(entry.accounts, spread_key=entry.reference)

        try:
            # One statement, one round trip: the sale hold on the photos, the re-check of each
            # photo under it (a delete that committed since the read above is seen; one that comes
            # later finds the sale and only unlists: a buyer never pays for a photo whose original
            # is gone), and every write (repository.place_order, migration 0005).
            response = repo.place_order(self.db, order_id, customer_id, key, request_hash, entry, lines,
                                        ids, wallet, sees_private_events=_sees_private_events(buyer))
        except repo.PhotoChanged as exc:
            replay = self._replay_if_claimed(customer_id, key, request_hash)
            if replay is not None:
                return replay
            # Only on this rare path is the catalog asked again, for the precise refusal (gone:
            # photo_not_found, not for sale any more, ...); it may not know yet (its cache).
            domain.price_order(customer_id, request.photo_ids, self._catalog_photos(request, buyer),
                               self.fee_bps)
            raise StateConflict("a photo of this order changed while it was placed; retry",
                                code="photo_changed") from exc
        except repo.KeyTaken as taken:
            # A request with this key committed first (perhaps concurrently: we waited on it).
            return self._replay_order({"request_hash": taken.request_hash, "response": taken.response},
                                      request_hash)
        except repo.AlreadyOwned as exc:
            raise StateConflict(f"you already own: {', '.join(exc.photo_ids)}",
                                code="already_owned") from exc
        except repo.WalletShort as exc:
            raise InsufficientFunds(currency, total, exc.balance_minor) from exc
        except psycopg2.IntegrityError as exc:
            # Backstops for what the checks above already rule out under the locks.
            if _is_unique_violation(exc, "entitlements_one_active"):
                raise StateConflict("you already own one of these photos", code="already_owned") from exc
            if getattr(exc.diag, "constraint_name", None) == "wallet_not_overdrawn":
                raise InsufficientFunds(currency, total, 0) from exc
            raise
        return Outcome(response, 201)

    def get_order(self, customer_id: str, order_id: str) -> dict[str, Any]:
        try:
            order_id = str(uuid.UUID(order_id))
        except ValueError as exc:
            raise Missing("order not found", code="order_not_found") from exc
        with self.db.cursor() as cur:
            row = repo.order(cur, order_id)
        # Another customer's order is reported exactly like a missing one.
        if row is None or row["customer_id"] != customer_id:
            raise Missing("order not found", code="order_not_found")
        return {**row["response"], "status": row["status"], "refunded_at": _iso(row["refunded_at"])}

    def list_orders(self, customer_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
        with self.db.cursor() as cur:
            rows = repo.customer_orders(cur, customer_id, decode_cursor(cursor), limit + 1)
        page = rows[:limit]
        return {
            "orders": [{**r["response"], "status": r["status"], "refunded_at": _iso(r["refunded_at"])}
                       for r in page],
            "next_cursor": encode_cursor(page[-1]["seq"]) if len(rows) > limit else None,
        }

    # ---- refunds ------------------------------------------------------------

    def refund(self, order_id: str) -> Outcome:
        """Reverse the order's entry and revoke its entitlements; a second call changes nothing."""
        try:
            order_id = str(uuid.UUID(order_id))
        except ValueError as exc:
            raise InvalidRequest("order_id must be an order id") from exc
        with self.db.connection() as conn, dict_cursor(conn) as cur:
            row = repo.order_for_update(cur, order_id)
            if row is None or row["entry_id"] is None:
                raise Missing("order not found", code="order_not_found")
            if row["status"] == "refunded":
                return Outcome({"order_id": order_id, "status": "refunded", "revoked": 0,
                                "refunded_minor": row["total_minor"], "currency": row["currency"]},
                               replayed=True)
            postings, ids = repo.entry_postings(cur, row["entry_id"])
            entry = ledger.reversal_of(postings, "refund", f"refund:{order_id}")
            repo.lock_accounts(cur, ids.values())
            refund_entry_id = repo.post_entry(cur, entry, ids)
            revoked = repo.mark_refunded(cur, order_id, refund_entry_id)
        return Outcome({"order_id": order_id, "status": "refunded", "revoked": revoked,
                        "refunded_minor": row["total_minor"], "currency": row["currency"]})

    # ---- reads --------------------------------------------------------------

    def wallet(self, user_id: str) -> dict[str, Any]:
        with self.db.cursor() as cur:
            return {"wallets": repo.balances(cur, user_id, "wallet")}

    def ledger(self, user_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
        with self.db.cursor() as cur:
            rows = repo.user_postings(cur, user_id, decode_cursor(cursor), limit + 1)
        page = rows[:limit]
        return {
            "entries": [{**r, "created_at": _iso(r["created_at"])} for r in page],
            "next_cursor": encode_cursor(page[-1]["posting_id"]) if len(rows) > limit else None,
        }

    def purchases(self, user_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
        with self.db.cursor() as cur:
            rows = repo.purchases(cur, user_id, decode_cursor(cursor), limit + 1)
        page = rows[:limit]
        return {
            "purchases": [{"photo_id": r["photo_id"], "order_id": str(r["order_id"]),
                           "purchased_at": _iso(r["created_at"])} for r in page],
            "next_cursor": encode_cursor(page[-1]["id"]) if len(rows) > limit else None,
        }

    def earnings(self, user_id: str) -> dict[str, Any]:
        with self.db.cursor() as cur:
            balances = {b["currency"]: b["balance_minor"] for b in repo.balances(cur, user_id, "earnings")}
            sales = {s["currency"]: s for s in repo.sales_summary(cur, user_id)}
        return {"earnings": [
            {"currency": c, "balance_minor": balances.get(c, 0), "fee_bps": self.fee_bps,
             **{k: v for k, v in sales.get(c, {}).items() if k != "currency"}}
            for c in sorted(set(balances) | set(sales))
        ]}

    def download(self, user_id: str, photo_id: str, *, buyer: Principal | None = None) -> dict[str, Any]:
        assert buyer is None or buyer.user_id == user_id
        if not domain.PHOTO_ID_RE.match(photo_id):
            raise Missing("photo not found", code="photo_not_found")
        photo_id = domain.canonical_photo_id(photo_id)
        try:
            photo = self.catalog.get_photos([photo_id], user=buyer).get(photo_id)
        except CatalogUnavailable as exc:
            raise Unavailable("the photo catalog is unavailable; retry later",
                              code="catalog_unavailable") from exc
        if photo is None:
            raise Missing("photo not found", code="photo_not_found")
        if photo.owner_id != user_id:
            with self.db.cursor() as cur:
                allowed = repo.has_entitlement(cur, user_id, photo_id)
            if not allowed:
                raise NotEntitled("you have not bought this photo", code="not_entitled")
        self._check_original(photo)
        url = self.presigner.presign_get(self.uploads_bucket, photo.original_key, self.presign_ttl_s,
                                         photo.original_version_id)
        return {"photo_id": photo_id, "url": url, "expires_in": self.presign_ttl_s}

    def _check_original(self, photo: CatalogPhoto) -> None:
        """Grant only the exact object whose SHA-256 the upload pipeline recorded.

        The pipeline read the original by its ETag (and version id) and recorded both with the
        hash; one HEAD compares them with what is stored now. In a versioned bucket the version
        id is exact (every write makes a new one) and the URL is pinned to it as well.
        """
        if not photo.original_etag and not photo.original_version_id:
            raise StateConflict("this photo's original is not processed yet (or was never recorded): "
                                "there is nothing to check a download against; try again once it is "
                                "ready", code="original_unverified")
        stored = self.presigner.current(self.uploads_bucket, photo.original_key)
        same = stored is not None and (
            stored.version_id == photo.original_version_id if photo.original_version_id
            else stored.etag == photo.original_etag)
        if not same:
            raise StateConflict("the stored original is not the one that was processed and sold "
                                "(it was replaced or removed); the download is refused",
                                code="original_changed")
