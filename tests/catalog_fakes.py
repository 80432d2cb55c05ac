"""A photo catalog held in a dict: stands in for the photo sidecar in transactions tests and the
benchmark (PostgreSQL and Redis stay real). Test code, so it is not shipped with the function."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable

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


def list_for_sale(db: Database, photo: CatalogPhoto) -> None:
    """The photo's row in the photo sidecar's own table (schema ``photos``), as the sidecar keeps it.

    An order re-checks its photos under the sale hold against that table (the view
    ``photos.photo_sale_status``, inside the one statement that writes the order), so a photo
    that the in-memory catalog sells must also be listed there, with the same owner and price.
    Upserted: adding a changed photo to the catalog changes its row too.
    """
    try:
        event_id = str(uuid.UUID(photo.event_id))
    except ValueError:
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"photostack-test-event:{photo.event_id}"))
    with db.cursor() as cur:
        cur.execute("INSERT INTO photos.events (id, owner_id, name, event_date, visibility)"
                    " VALUES (%s, %s, 'test event', current_date, 'public') ON CONFLICT (id) DO NOTHING",
                    (event_id, photo.owner_id))
        cur.execute(
            "INSERT INTO photos.photos (id, event_id, owner_id, status, original_key, content_type,"
            " declared_bytes, price_minor, currency) VALUES (%s, %s, %s, %s, %s, 'image/jpeg', 1, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, status = excluded.status,"
            " price_minor = excluded.price_minor, currency = excluded.currency",
            (photo.photo_id, event_id, photo.owner_id, "ready" if photo.for_sale else "pending",
             photo.original_key, photo.price_minor, photo.currency))
