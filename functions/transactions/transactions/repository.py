"""SQL of the transactions schema. Functions take a cursor, so the caller owns the transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psycopg2.extras
from photostack.db import Database, dict_cursor
from psycopg2.extras import Json

from transactions.ledger import AccountRef, Entry, Posting, SaleLine

Cursor = Any  # psycopg2 RealDictCursor


class AccountDirectory:
    """Account ids by (kind, owner, currency), created on first use.

    Accounts are created in their own short transaction, before the one that
    moves money, so the money-moving transaction only ever takes row locks in
    sorted id order. Ids never change, so this warm-container cache is bounded
    only to cap memory; ``clear()`` forgets it (tests).
    """

    MAX_CACHED = 50_000

    def __init__(self, db: Database) -> None:
        self._db = db
        self._ids: dict[AccountRef, int] = {}
        self._lock = threading.Lock()

    def ids(self, refs: Iterable[AccountRef]) -> dict[AccountRef, int]:
        wanted = sorted(set(refs))
        with self._lock:
            found = {r: self._ids[r] for r in wanted if r in self._ids}
        missing = [r for r in wanted if r not in found]
        if missing:
            with self._db.connection() as conn, dict_cursor(conn) as cur:
                # Sorted inserts: two callers creating the same accounts wait, never deadlock.
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO accounts (kind, owner_id, currency) VALUES %s"
                    " ON CONFLICT (kind, owner_id, currency) DO NOTHING",
                    [(r.kind, r.owner_id, r.currency) for r in missing],
                )
                psycopg2.extras.execute_values(
                    cur,
                    "SELECT a.id, a.kind, a.owner_id, a.currency FROM accounts a"
                    " JOIN (VALUES %s) AS w (kind, owner_id, currency)"
                    " ON a.kind = w.kind AND a.owner_id = w.owner_id AND a.currency = w.currency",
                    [(r.kind, r.owner_id, r.currency) for r in missing],
                )
                created = {AccountRef(row["kind"], row["owner_id"], row["currency"]): row["id"]
                           for row in cur.fetchall()}
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
    """The postings of an opened entry; the postings trigger moves the cached balances.

    The accounts must already be locked by :func:`lock_accounts`.
    """
    psycopg2.extras.execute_values(
        cur,
        "INSERT INTO postings (entry_id, account_id, currency, amount_minor) VALUES %s",
        [(entry_id, account_ids[p.account], p.currency, p.amount_minor) for p in entry.postings],
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
    cur.execute("SELECT currency, balance_minor FROM accounts WHERE owner_id = %s AND kind = %s"
                " ORDER BY currency", (owner_id, kind))
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

# The photo sidecar takes this per-photo advisory lock exclusively while it decides between
# deleting and unlisting a photo (sidecar/repository.py, SALE_LOCK_SQL: keep the two equal).
_SALE_LOCK_SQL = "hashtextextended('photostack:photo-sale:' || %s, 0)"


def hold_photos_for_sale(cur: Cursor, photo_ids: Iterable[str]) -> None:
    """Share each photo's sale lock until the transaction ends (sorted: no deadlock among orders)."""
    for photo_id in sorted(set(photo_ids)):
        cur.execute(f"SELECT pg_advisory_xact_lock_shared({_SALE_LOCK_SQL})", (photo_id,))


def claim_order(cur: Cursor, order_id: str, customer_id: str, key: str, request_hash: str,
                currency: str, total_minor: int) -> datetime | None:
    """Insert the order row that owns ``key``: its creation time, or None if another request holds it.

    A concurrent insert of the same key waits here on the unique index until
    the first transaction ends, then sees its committed row (or takes the key
    if that transaction rolled back).
    """
    cur.execute(
        "INSERT INTO orders (id, customer_id, idempotency_key, request_hash, status, currency,"
        " total_minor, response) VALUES (%s, %s, %s, %s, 'paid', %s, %s, '{}'::jsonb)"
        " ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING created_at",
        (order_id, customer_id, key, request_hash, currency, total_minor))
    row = cur.fetchone()
    return row["created_at"] if row else None


def order_by_key(cur: Cursor, customer_id: str, key: str) -> dict[str, Any] | None:
    cur.execute("SELECT id, request_hash, response FROM orders WHERE customer_id = %s"
                " AND idempotency_key = %s", (customer_id, key))
    row = cur.fetchone()
    return dict(row) if row else None


def complete_order(cur: Cursor, order_id: str, entry_id: int, lines: list[SaleLine], customer_id: str,
                   response: dict[str, Any]) -> None:
    psycopg2.extras.execute_values(
        cur,
        "INSERT INTO order_items (order_id, photo_id, owner_id, currency, price_minor, fee_minor,"
        " net_minor) VALUES %s",
        [(order_id, li.photo_id, li.owner_id, li.currency, li.price_minor, li.fee_minor, li.net_minor)
         for li in lines])
    psycopg2.extras.execute_values(
        cur, "INSERT INTO entitlements (user_id, photo_id, order_id) VALUES %s",
        [(customer_id, li.photo_id, order_id) for li in lines])
    cur.execute("UPDATE orders SET entry_id = %s, response = %s WHERE id = %s",
                (entry_id, Json(response), order_id))


def owned_photos(cur: Cursor, user_id: str, photo_ids: list[str]) -> list[str]:
    cur.execute("SELECT photo_id FROM entitlements WHERE user_id = %s AND photo_id = ANY(%s)"
                " AND status = 'active' ORDER BY photo_id", (user_id, photo_ids))
    return [row["photo_id"] for row in cur.fetchall()]


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
