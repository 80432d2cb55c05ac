"""Fixtures for the transactions domain against the real PostgreSQL (schema ``transactions``).

The photo sidecar is replaced by an in-memory catalog; the database and Redis are real.
Every test works with fresh user and photo ids, so tests never see each other's
money, and the global ledger invariants hold across all of them.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from photostack.db import Database
from transactions.catalog import CatalogPhoto
from transactions.domain import OrderRequest, TopupRequest
from transactions.presign import S3Presigner
from transactions.services import TransactionsService

from infra.db.migrate import migrate
from tests.catalog_fakes import InMemoryCatalog, Listings, original_key, unlist_leftovers
from tests.identity import person
from tests.payment_fakes import SimulatedProvider

SECRET = "integration-webhook-secret-0123456789abcdef"
FEE_BPS = 1500
# A bucket of the tests' own (the stack's uploads bucket would trigger the upload function),
# versioned like the real one.
UPLOADS = "photostack-test-uploads"


@pytest.fixture(scope="session")
def tx_db(database_url: str) -> Iterator[Database]:
    # The photos schema too: an order re-checks its photos there (photos.photo_sale_status).
    migrate(database_url, ["photos", "transactions"])
    db = Database(database_url, schema="transactions", maxconn=8)
    unlist_leftovers(db)  # what a killed earlier run listed and could not remove
    yield db
    db.close()


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:4566",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(signature_version="s3v4"))


def presigner() -> S3Presigner:
    return S3Presigner(s3())


@functools.cache
def uploads_bucket() -> str:
    """The test uploads bucket in LocalStack, made on first use (only downloads need S3)."""
    client = s3()
    client.create_bucket(Bucket=UPLOADS)
    client.put_bucket_versioning(Bucket=UPLOADS, VersioningConfiguration={"Status": "Enabled"})
    return UPLOADS


def make_service(db: Database, catalog: InMemoryCatalog) -> TransactionsService:
    return TransactionsService(db, catalog, presigner(), fee_bps=FEE_BPS, webhook_secret=SECRET,
                               uploads_bucket=UPLOADS, presign_ttl_s=120)


@dataclass
class World:
    """A service plus helpers that create users, photos and funded wallets."""

    service: TransactionsService
    catalog: InMemoryCatalog
    provider: SimulatedProvider
    listings: Listings  # every photo listed in the photos schema, removed when the test ends

    @staticmethod
    def user(prefix: str = "u") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    @staticmethod
    def key() -> str:
        return f"key-{uuid.uuid4().hex}"

    def photo(self, owner: str, price: int = 1000, currency: str = "EUR", for_sale: bool = True) -> str:
        pid, event = str(uuid.uuid4()), str(uuid.uuid4())
        photo = self.catalog.add(CatalogPhoto(pid, event, owner, price, currency, for_sale,
                                              original_key(event, pid)))
        self.listings.add(self.service.db, photo)
        return pid

    def stored_photo(self, owner: str, price: int = 1000, body: bytes = b"original-bytes") -> str:
        """A photo whose original is in S3, recorded as the upload pipeline records it."""
        pid, event = str(uuid.uuid4()), str(uuid.uuid4())
        key = original_key(event, pid)
        put = s3().put_object(Bucket=uploads_bucket(), Key=key, Body=body)
        photo = self.catalog.add(CatalogPhoto(pid, event, owner, price, "EUR", True, key,
                                              original_etag=put["ETag"].strip('"'),
                                              original_version_id=put.get("VersionId", "")))
        self.listings.add(self.service.db, photo)
        return pid

    def fund(self, user_id: str, amount: int, currency: str = "EUR") -> str:
        outcome = self.service.start_topup(user_id, self.key(), TopupRequest(amount, currency))
        payment_id: str = outcome.body["payment_id"]
        self.confirm(payment_id)
        return payment_id

    def confirm(self, payment_id: str, status: str = "succeeded", **kw: Any) -> dict[str, Any]:
        hook = self.provider.webhook(payment_id, status, **kw)
        result = self.service.handle_payment_webhook(hook.headers["X-Photostack-Signature"], hook.body)
        return result.body

    def order(self, customer: str, *photo_ids: str, key: str | None = None) -> dict[str, Any]:
        # As the transactions function does: on the buyer's behalf (their verified token), which
        # the real catalog (the sidecar) needs; the in-memory one ignores it.
        return self.service.place_order(customer, key or self.key(), OrderRequest(tuple(photo_ids)),
                                        buyer=person(customer, "customer")).body

    def balance(self, user_id: str, kind: str = "wallet", currency: str = "EUR") -> int:
        with self.service.db.cursor() as cur:
            # An account's balance is the sum of its shard rows.
            cur.execute("SELECT coalesce(sum(balance_minor), 0) AS balance_minor FROM accounts"
                        " WHERE kind = %s AND owner_id = %s AND currency = %s", (kind, user_id, currency))
            row = cur.fetchone()
        return int(row["balance_minor"]) if row else 0

    def footprint(self, user_id: str) -> dict[str, Any]:
        """Everything a user's failed request could have changed."""
        with self.service.db.cursor() as cur:
            cur.execute(
                "SELECT (SELECT count(*) FROM orders WHERE customer_id = %(u)s) AS orders,"
                " (SELECT count(*) FROM entitlements WHERE user_id = %(u)s) AS entitlements,"
                " (SELECT count(*) FROM payments WHERE user_id = %(u)s) AS payments,"
                " (SELECT count(*) FROM postings p JOIN accounts a ON a.id = p.account_id"
                "  WHERE a.owner_id = %(u)s) AS postings,"
                " (SELECT coalesce(json_agg(json_build_array(kind, currency, balance_minor)"
                "  ORDER BY kind, currency, shard), '[]') FROM accounts WHERE owner_id = %(u)s"
                "  AND balance_minor <> 0) AS balances",
                {"u": user_id})
            return dict(cur.fetchone())


@contextlib.contextmanager
def fresh_world(db: Database) -> Iterator[World]:
    """A world whose listed photos leave the photos schema when it ends: they are ``ready`` with no
    object in the stack's S3, which the storage check of the next ``make up`` would mark lost.
    Ending fails if any of them is still there."""
    catalog = InMemoryCatalog()
    world = World(make_service(db, catalog), catalog, SimulatedProvider(SECRET), Listings(db))
    try:
        yield world
    finally:
        world.listings.remove()


@pytest.fixture
def world(tx_db: Database) -> Iterator[World]:
    with fresh_world(tx_db) as w:
        yield w


def ledger_violations(db: Database) -> dict[str, list[Any]]:
    """The global invariants, as the rows that break them (all lists empty: the ledger is sound)."""
    with db.cursor() as cur:
        cur.execute("SELECT entry_id, currency, sum(amount_minor) AS total FROM postings"
                    " GROUP BY entry_id, currency HAVING sum(amount_minor) <> 0")
        unbalanced_entries = cur.fetchall()
        cur.execute("SELECT currency, sum(balance_minor) AS total FROM accounts GROUP BY currency"
                    " HAVING sum(balance_minor) <> 0")
        nonzero_currencies = cur.fetchall()
        cur.execute("SELECT currency, sum(amount_minor) AS total FROM postings GROUP BY currency"
                    " HAVING sum(amount_minor) <> 0")
        nonzero_postings = cur.fetchall()
        cur.execute(
            "SELECT a.id, a.balance_minor, coalesce(sum(p.amount_minor), 0) AS posted FROM accounts a"
            " LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id"
            " HAVING a.balance_minor <> coalesce(sum(p.amount_minor), 0)")
        stale_balances = cur.fetchall()
        cur.execute("SELECT id, balance_minor FROM accounts WHERE kind = 'wallet' AND balance_minor < 0")
        overdrawn = cur.fetchall()
        cur.execute("SELECT id FROM journal_entries e WHERE NOT EXISTS"
                    " (SELECT 1 FROM postings p WHERE p.entry_id = e.id)")
        empty_entries = cur.fetchall()
        cur.execute("SELECT id FROM orders WHERE entry_id IS NULL OR response = '{}'::jsonb"
                    " OR NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = orders.id)")
        partial_orders = cur.fetchall()
    return {
        "unbalanced_entries": unbalanced_entries, "nonzero_currencies": nonzero_currencies,
        "nonzero_postings": nonzero_postings, "stale_balances": stale_balances, "overdrawn": overdrawn,
        "empty_entries": empty_entries, "partial_orders": partial_orders,
    }


@pytest.fixture
def violations() -> Any:
    return ledger_violations
