"""SQL of the transactions schema. Functions take a cursor, so the caller owns the transaction."""

from __future__ import annotations

import os
import threading
import time
import uuid
import zlib
from collections.abc import Iterable
from typing import Any

import psycopg2
import psycopg2.extras
from photostack.db import Database, dict_cursor

from transactions.ledger import AccountRef, Entry, Posting, SaleLine

Cursor = Any  # psycopg2 RealDictCursor


# Accounts that every order credits are split into this many rows (migration 0003): a posting
# goes to one shard, so concurrent orders do not all queue on one row lock. Wallets are one
# row, because "never below zero" is checked on the row under its lock.
SHARDS = 16
SHARDED_KINDS = frozenset({"earnings", "platform_revenue", "provider_clearing"})


def shard_of(spread_key: str) -> int:
    """The shard of an entry's postings: a stable hash of its reference (same in every process)."""
    return zlib.crc32(spread_key.encode()) % SHARDS


class AccountDirectory:
    """Account row ids by (kind, owner, currency), created on first use.

    Accounts are created in their own short transaction, before the one that
    moves money, so the money-moving transaction only ever takes row locks in
    sorted id order. A sharded kind is created with all its :data:`SHARDS` rows at
    once. Ids never change, so this warm-container cache is bounded only to cap
    memory; ``clear()`` forgets it (tests).
    """

    MAX_CACHED = 50_000

    def __init__(self, db: Database) -> None:
        self._db = db
        self._ids: dict[AccountRef, tuple[int, ...]] = {}
        self._lock = threading.Lock()

    def ids(self, refs: Iterable[AccountRef], spread_key: str = "") -> dict[AccountRef, int]:
        """The row of each account that an entry referenced by ``spread_key`` posts to."""
        shard = shard_of(spread_key)
        rows = self.rows(refs)
        return {ref: ids[shard] if len(ids) > 1 else ids[0] for ref, ids in rows.items()}

    def rows(self, refs: Iterable[AccountRef]) -> dict[AccountRef, tuple[int, ...]]:
        """Every row (shard) of each account, in shard order."""
        wanted = sorted(set(refs))
        with self._lock:
            found = {r: self._ids[r] for r in wanted if r in self._ids}
        missing = [r for r in wanted if r not in found]
        if missing:
            keys = sorted((r.kind, r.owner_id, r.currency, shard) for r in missing
                          for shard in range(SHARDS if r.kind in SHARDED_KINDS else 1))
            with self._db.connection() as conn, dict_cursor(conn) as cur:
                # Sorted inserts: two callers creating the same accounts wait, never deadlock.
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO accounts (kind, owner_id, currency, shard) VALUES %s"
                    " ON CONFLICT (kind, owner_id, currency, shard) DO NOTHING",
                    keys,
                )
                # fetch=True: past page_size rows execute_values runs several statements, and
                # fetchall() alone would see only the last one's rows.
                found_rows = psycopg2.extras.execute_values(
                    cur,
                    "SELECT a.id, a.kind, a.owner_id, a.currency, a.shard FROM accounts a"
                    " JOIN (VALUES %s) AS w (kind, owner_id, currency, shard)"
                    " ON a.kind = w.kind AND a.owner_id = w.owner_id AND a.currency = w.currency"
                    " AND a.shard = w.shard",
                    keys, fetch=True,
                )
                by_ref: dict[AccountRef, list[int]] = {}
                for row in sorted(found_rows, key=lambda r: r["shard"]):
                    by_ref.setdefault(AccountRef(row["kind"], row["owner_id"], row["currency"]),
                                      []).append(row["id"])
            created = {ref: tuple(ids) for ref, ids in by_ref.items()}
            with self._lock:
                if len(self._ids) + len(created) > self.MAX_CACHED:
                    self._ids.clear()
                self._ids.update(created)
            found.update(created)
        return found

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()


# ---- ledger -----------------------------------------------------------------

def lock_accounts(cur: Cursor, account_ids: Iterable[int]) -> dict[int, int]:
    """Lock the accounts in ascending id order (the one global order: no deadlocks); balances by id."""
    ids = sorted(set(account_ids))
    cur.execute("SELECT id, balance_minor FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,))
    balances = {row["id"]: row["balance_minor"] for row in cur.fetchall()}
    if len(balances) != len(ids):
        raise LookupError("an account to lock does not exist")
    return balances


def open_entry(cur: Cursor, entry: Entry) -> int:
    """The entry's header row; its postings must follow in the same transaction (checked at commit)."""
    cur.execute("INSERT INTO journal_entries (kind, reference) VALUES (%s, %s) RETURNING id",
                (entry.kind, entry.reference))
    entry_id: int = cur.fetchone()["id"]
    return entry_id


def insert_postings(cur: Cursor, entry_id: int, entry: Entry, account_ids: dict[AccountRef, int]) -> None:
    """The postings of an opened entry; the postings trigger checks the entry and moves the balances.

    The accounts must already be locked by :func:`lock_accounts`. One statement for all of
    them: the trigger checks, after each statement, that the entry balances (migration 0004).
    """
    psycopg2.extras.execute_values(
        cur,
        "INSERT INTO postings (entry_id, account_id, currency, amount_minor) VALUES %s",
        [(entry_id, account_ids[p.account], p.currency, p.amount_minor) for p in entry.postings],
        page_size=len(entry.postings),
    )


def post_entry(cur: Cursor, entry: Entry, account_ids: dict[AccountRef, int]) -> int:
    """Write a balanced entry whose accounts are already locked."""
    entry_id = open_entry(cur, entry)
    insert_postings(cur, entry_id, entry, account_ids)
    return entry_id


def entry_postings(cur: Cursor, entry_id: int) -> tuple[list[Posting], dict[AccountRef, int]]:
    cur.execute(
        "SELECT p.amount_minor, a.id, a.kind, a.owner_id, a.currency FROM postings p"
        " JOIN accounts a ON a.id = p.account_id WHERE p.entry_id = %s ORDER BY p.id", (entry_id,))
    postings: list[Posting] = []
    ids: dict[AccountRef, int] = {}
    for row in cur.fetchall():
        ref = AccountRef(row["kind"], row["owner_id"], row["currency"])
        ids[ref] = row["id"]
        postings.append(Posting(ref, row["amount_minor"]))
    return postings, ids


def balances(cur: Cursor, owner_id: str, kind: str) -> list[dict[str, Any]]:
    # An account's balance is the sum of its shards.
    cur.execute("SELECT currency, sum(balance_minor)::bigint AS balance_minor FROM accounts"
                " WHERE owner_id = %s AND kind = %s GROUP BY currency ORDER BY currency", (owner_id, kind))
    return [dict(row) for row in cur.fetchall()]


def user_postings(cur: Cursor, owner_id: str, before_id: int | None, limit: int) -> list[dict[str, Any]]:
    cur.execute(
        "SELECT p.id AS posting_id, p.entry_id, e.kind AS entry_kind, e.reference, a.kind AS account,"
        " p.amount_minor, p.currency, e.created_at FROM postings p"
        " JOIN accounts a ON a.id = p.account_id JOIN journal_entries e ON e.id = p.entry_id"
        " WHERE a.owner_id = %s AND (%s::bigint IS NULL OR p.id < %s)"
        " ORDER BY p.id DESC LIMIT %s",
        (owner_id, before_id, before_id, limit))
    return [dict(row) for row in cur.fetchall()]


# ---- payments ---------------------------------------------------------------

def insert_payment(cur: Cursor, payment_id: str, user_id: str, key: str, request_hash: str,
                   amount_minor: int, currency: str) -> dict[str, Any] | None:
    """The new payment, or None when the user already used ``key`` (the caller replays it)."""
    cur.execute(
        "INSERT INTO payments (id, user_id, idempotency_key, request_hash, amount_minor, currency)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING *",
        (payment_id, user_id, key, request_hash, amount_minor, currency))
    row = cur.fetchone()
    return dict(row) if row else None


def payment_by_key(cur: Cursor, user_id: str, key: str) -> dict[str, Any] | None:
    cur.execute("SELECT * FROM payments WHERE user_id = %s AND idempotency_key = %s", (user_id, key))
    row = cur.fetchone()
    return dict(row) if row else None


def payment(cur: Cursor, payment_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    cur.execute("SELECT * FROM payments WHERE id = %s" + (" FOR UPDATE" if for_update else ""),
                (payment_id,))
    row = cur.fetchone()
    return dict(row) if row else None


def record_webhook_event(cur: Cursor, event_id: str, payment_id: str, status: str) -> bool:
    """False when the event id was seen before (a replay)."""
    cur.execute("INSERT INTO webhook_events (event_id, payment_id, status) VALUES (%s, %s, %s)"
                " ON CONFLICT (event_id) DO NOTHING RETURNING event_id", (event_id, payment_id, status))
    return cur.fetchone() is not None


def settle_payment(cur: Cursor, payment_id: str, status: str, entry_id: int | None) -> None:
    cur.execute("UPDATE payments SET status = %s, entry_id = %s, settled_at = now() WHERE id = %s",
                (status, entry_id, payment_id))


# ---- orders -----------------------------------------------------------------

def new_order_id() -> str:
    """A new order's id: a UUIDv7 (RFC 9562), Unix milliseconds first, then 74 random bits.

    The order id leads the keys of orders, order_items and entitlements (by order). Random
    (v4) ids put every order on a random leaf page of each of those indexes, which outgrow
    shared buffers: measured, one connection, 400 orders, about 1.5 of the order's 2.2 reads
    from outside shared buffers per order were those three indexes (pg_statio). Time-ordered
    ids append at the indexes' right-hand edge, whose pages stay in memory. The time part is
    no secret (the order's created_at says it); an order is read only by its customer.
    """
    rand = int.from_bytes(os.urandom(10))
    value = ((time.time_ns() // 1_000_000) & (1 << 48) - 1) << 80 | 0x7 << 76 \
        | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62 | rand & (1 << 62) - 1
    return str(uuid.UUID(int=value))


def hold_photos_for_sale(cur: Cursor, photo_ids: Iterable[str]) -> None:
    """Share each photo's sale lock until the transaction ends, in one statement.

    The photo sidecar takes the same per-photo advisory lock exclusively while it decides
    between deleting and unlisting a photo (sidecar/repository.py, SALE_LOCK_SQL; the
    SQL function of migration 0003 holds the same expression: keep them equal).
    """
    # Schema-qualified: the same lock is taken from the photos schema's tests.
    cur.execute("SELECT transactions.hold_photos_for_sale(%s::text[])", (sorted(set(photo_ids)),))


class AlreadyOwned(Exception):
    def __init__(self, photo_ids: list[str]) -> None:
        super().__init__(", ".join(photo_ids))
        self.photo_ids = photo_ids


class KeyTaken(Exception):
    """The idempotency key already belongs to a committed order (its request hash and response)."""

    def __init__(self, request_hash: str, response: dict[str, Any]) -> None:
        super().__init__(request_hash)
        self.request_hash = request_hash
        self.response = response


class WalletShort(Exception):
    def __init__(self, balance_minor: int) -> None:
        super().__init__(str(balance_minor))
        self.balance_minor = balance_minor


class PhotoChanged(Exception):
    """Under the sale hold, a photo is gone, no longer for sale, or not as the order was priced."""

    def __init__(self, photo_ids: list[str]) -> None:
        super().__init__(", ".join(photo_ids))
        self.photo_ids = photo_ids


_PLACE_ORDER_SQL = (
    "SELECT outcome, request_hash, response FROM place_order_checked(%s, %s, %s, %s, %s, %s, %s,"
    " %s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s, %s)")

_ERRORS = {"PSOWN": lambda detail: AlreadyOwned(detail.split(", ")),
           "PSNSF": lambda detail: WalletShort(int(detail or 0)),
           "PSCHG": lambda detail: PhotoChanged(detail.split(", "))}


def place_order(db: Database, order_id: str, customer_id: str, key: str, request_hash: str, entry: Entry,
                lines: list[SaleLine], account_ids: dict[AccountRef, int],
                wallet: AccountRef, *, sees_private_events: bool = False) -> dict[str, Any]:
    """The whole order as one transaction in one round trip (the SQL function
    ``place_order_checked``, migration 0005): its response.

    In that one statement: the sale hold on the photos, the re-check of every photo under it
    against the photos schema's sale status (gone, unlisted, another price or owner: nothing
    is written; a photo of a private event unless ``sees_private_events``: the buyer's catalog
    read showed it, as it does to admins, migration 0007), then all writes (``place_order``).
    Raises :class:`PhotoChanged`,
    :class:`KeyTaken` when a committed order already holds ``key`` (nothing was written),
    :class:`AlreadyOwned`, :class:`WalletShort`.
    """
    currency = lines[0].currency
    try:
        rows = db.one_message(_PLACE_ORDER_SQL, (
            order_id, customer_id, key, request_hash, currency, sum(li.price_minor for li in lines),
            entry.reference,
            [li.photo_id for li in lines], [li.owner_id for li in lines], [li.price_minor for li in lines],
            [li.fee_minor for li in lines], [li.net_minor for li in lines],
            [account_ids[p.account] for p in entry.postings], [p.amount_minor for p in entry.postings],
            account_ids[wallet], sees_private_events))
    except psycopg2.Error as exc:
        known = _ERRORS.get(exc.pgcode or "")
        if known is not None:
            raise known(getattr(exc.diag, "message_detail", None) or "") from exc
        raise
    row = rows[0]
    if row["outcome"] == "exists":
        raise KeyTaken(row["request_hash"], row["response"])
    response: dict[str, Any] = row["response"]
    return response


def order_by_key(cur: Cursor, customer_id: str, key: str) -> dict[str, Any] | None:
    cur.execute("SELECT id, request_hash, response FROM orders WHERE customer_id = %s"
                " AND idempotency_key = %s", (customer_id, key))
    row = cur.fetchone()
    return dict(row) if row else None


def order_for_update(cur: Cursor, order_id: str) -> dict[str, Any] | None:
    cur.execute("SELECT * FROM orders WHERE id = %s FOR UPDATE", (order_id,))
    row = cur.fetchone()
    return dict(row) if row else None


def order(cur: Cursor, order_id: str) -> dict[str, Any] | None:
    cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
    row = cur.fetchone()
    return dict(row) if row else None


def mark_refunded(cur: Cursor, order_id: str, refund_entry_id: int) -> int:
    """Refund the order and revoke its entitlements; how many were revoked."""
    cur.execute("UPDATE orders SET status = 'refunded', refund_entry_id = %s, refunded_at = now()"
                " WHERE id = %s", (refund_entry_id, order_id))
    cur.execute("UPDATE entitlements SET status = 'revoked', revoked_at = now()"
                " WHERE order_id = %s AND status = 'active'", (order_id,))
    revoked: int = cur.rowcount
    return revoked


def customer_orders(cur: Cursor, customer_id: str, before_seq: int | None,
                    limit: int) -> list[dict[str, Any]]:
    cur.execute(
        "SELECT seq, status, refunded_at, response FROM orders WHERE customer_id = %s"
        " AND (%s::bigint IS NULL OR seq < %s) ORDER BY seq DESC LIMIT %s",
        (customer_id, before_seq, before_seq, limit))
    return [dict(row) for row in cur.fetchall()]


def purchases(cur: Cursor, user_id: str, before_id: int | None, limit: int) -> list[dict[str, Any]]:
    cur.execute(
        "SELECT id, photo_id, order_id, created_at FROM entitlements WHERE user_id = %s"
        " AND status = 'active' AND (%s::bigint IS NULL OR id < %s) ORDER BY id DESC LIMIT %s",
        (user_id, before_id, before_id, limit))
    return [dict(row) for row in cur.fetchall()]


def has_entitlement(cur: Cursor, user_id: str, photo_id: str) -> bool:
    cur.execute("SELECT 1 FROM entitlements WHERE user_id = %s AND photo_id = %s AND status = 'active'",
                (user_id, photo_id))
    return cur.fetchone() is not None


def sales_summary(cur: Cursor, owner_id: str) -> list[dict[str, Any]]:
    cur.execute(
        "SELECT i.currency, count(*) FILTER (WHERE o.status = 'paid') AS sales,"
        " count(*) FILTER (WHERE o.status = 'refunded') AS refunded,"
        " coalesce(sum(i.price_minor) FILTER (WHERE o.status = 'paid'), 0)::bigint AS gross_minor,"
        " coalesce(sum(i.fee_minor) FILTER (WHERE o.status = 'paid'), 0)::bigint AS fee_minor,"
        " coalesce(sum(i.net_minor) FILTER (WHERE o.status = 'paid'), 0)::bigint AS net_minor"
        " FROM order_items i JOIN orders o ON o.id = i.order_id WHERE i.owner_id = %s"
        " GROUP BY i.currency ORDER BY i.currency", (owner_id,))
    return [dict(row) for row in cur.fetchall()]
