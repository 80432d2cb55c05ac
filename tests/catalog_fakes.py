"""A photo catalog held in a dict: stands in for the photo sidecar in transactions tests and the
benchmark (PostgreSQL and Redis stay real). Test code, so it is not shipped with the function.

A photo the in-memory catalog sells is also listed in the sidecar's own table (``list_for_sale``),
``ready`` and with no object in S3: left there, the storage check of the next ``make up`` marks it
failed as lost, noise that would hide a real loss. ``Listings`` records what it listed and removes
it again; ``unlist_leftovers`` removes what a killed run could not.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from datetime import timedelta

from photostack.db import Database
from photostack.tokens import Principal
from transactions.catalog import CatalogPhoto


def original_key(event_id: str, photo_id: str) -> str:
    return f"originals/{event_id}/{photo_id}"


class InMemoryCatalog:
    """A catalog held in a dict: stands in for the sidecar in tests and benchmarks."""

    def __init__(self, photos: Iterable[CatalogPhoto] = ()) -> None:
        self._lock = threading.Lock()
        self._photos = {p.photo_id: p for p in photos}

    def add(self, photo: CatalogPhoto) -> CatalogPhoto:
        with self._lock:
            self._photos[photo.photo_id] = photo
        return photo

    def get_photos(self, photo_ids: list[str], *, user: Principal | None = None) -> dict[str, CatalogPhoto]:
        with self._lock:
            return {pid: self._photos[pid] for pid in photo_ids if pid in self._photos}


# The events list_for_sale creates are named so (``test event`` before they carried the module's
# name): a real photographer's event is never swept by that name's match.
LISTED_EVENT = "test event (tests/catalog_fakes.py)"
LEGACY_LISTED_EVENT = "test event"
# A listing lives for one test (pytest's timeout: 300 s); older ones are a killed run's leftovers.
# Younger ones may be another test session's, running now against the same database.
LEFTOVER_AGE = timedelta(minutes=15)
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def listed_event_id(photo: CatalogPhoto) -> str:
    """The event row's id for ``photo``: its event id, or a UUID made from a test's short name."""
    try:
        return str(uuid.UUID(photo.event_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"photostack-test-event:{photo.event_id}"))


def list_for_sale(db: Database, photo: CatalogPhoto) -> str:
    """The photo's row in the photo sidecar's own table (schema ``photos``), as the sidecar keeps it;
    the id of its event's row.

    An order re-checks its photos under the sale hold against that table (the view
    ``photos.photo_sale_status``, inside the one statement that writes the order), so a photo
    that the in-memory catalog sells must also be listed there, with the same owner and price.
    Upserted: adding a changed photo to the catalog changes its row too.
    """
    event_id = listed_event_id(photo)
    with db.cursor() as cur:
        cur.execute("INSERT INTO photos.events (id, owner_id, name, event_date, visibility)"
                    " VALUES (%s, %s, %s, current_date, 'public') ON CONFLICT (id) DO NOTHING",
                    (event_id, photo.owner_id, LISTED_EVENT))
        cur.execute(
            "INSERT INTO photos.photos (id, event_id, owner_id, status, original_key, content_type,"
            " declared_bytes, price_minor, currency) VALUES (%s, %s, %s, %s, %s, 'image/jpeg', 1, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, status = excluded.status,"
            " price_minor = excluded.price_minor, currency = excluded.currency",
            (photo.photo_id, event_id, photo.owner_id, "ready" if photo.for_sale else "pending",
             photo.original_key, photo.price_minor, photo.currency))
    return event_id


def unlist(db: Database, listed: dict[str, str]) -> None:
    """The listed photos (photo id -> event row id) leave the photos schema again, and the events
    ``list_for_sale`` created for them. The ledger keeps its orders and entitlements: they name
    photo ids, with no reference to the row."""
    with db.cursor() as cur:
        cur.execute("DELETE FROM photos.photos WHERE id = ANY(%s::uuid[])", (sorted(listed),))
        cur.execute("DELETE FROM photos.events WHERE id = ANY(%s::uuid[]) AND name = %s",
                    (sorted(set(listed.values())), LISTED_EVENT))


def still_listed(db: Database, photo_ids: Iterable[str]) -> list[str]:
    """Those of ``photo_ids`` that still have a row in the photos schema."""
    with db.cursor() as cur:
        cur.execute("SELECT id::text AS id FROM photos.photos WHERE id = ANY(%s::uuid[]) ORDER BY id",
                    (sorted(set(photo_ids)),))
        return [r["id"] for r in cur.fetchall()]


class Listings:
    """What one test listed through ``list_for_sale``, to remove when it ends (``remove``)."""

    def __init__(self, db: Database) -> None:
        self._db = db  # the session's pool: a test may swap (and close) its service's pool
        self._lock = threading.Lock()
        self._events: dict[str, str] = {}  # photo id -> its event row's id

    def add(self, db: Database, photo: CatalogPhoto) -> None:
        """Lists ``photo`` through ``db`` (the pool its test's service uses) and records it."""
        event_id = list_for_sale(db, photo)
        with self._lock:
            self._events[photo.photo_id] = event_id

    @property
    def photo_ids(self) -> list[str]:
        with self._lock:
            return list(self._events)

    def remove(self) -> None:
        """Removes every listed photo and its event; fails if any of them is still there."""
        with self._lock:
            listed = dict(self._events)
        unlist(self._db, listed)
        left = still_listed(self._db, listed)
        assert not left, f"listed photos left in the photos schema: {left[:5]}"
        with self._lock:
            for photo_id in listed:
                self._events.pop(photo_id, None)


def unlist_leftovers(db: Database, older_than: timedelta = LEFTOVER_AGE) -> int:
    """Removes the listings of runs that were killed before their tests' teardown (events named by
    ``list_for_sale``, created more than ``older_than`` ago); how many events it removed."""
    with db.cursor() as cur:
        # The legacy name only with a test's owner id (``p-1a2b...``): a person's is a UUID.
        cur.execute("DELETE FROM photos.events WHERE created_at < clock_timestamp() - %s"
                    " AND (name = %s OR (name = %s AND owner_id !~ %s))",
                    (older_than, LISTED_EVENT, LEGACY_LISTED_EVENT, UUID_PATTERN))
        return int(cur.rowcount)
