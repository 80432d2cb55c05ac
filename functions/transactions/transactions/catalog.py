"""What the transactions domain needs to know about photos, and from where.

The photo sidecar owns photos; this domain only reads owner, price and the
original's S3 key. Services take any :class:`PhotoCatalog`; production uses the
gRPC client of the sidecar, tests may use :class:`InMemoryCatalog` in the
sidecar's place (PostgreSQL and Redis stay real).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from photostack.tokens import Principal


@dataclass(frozen=True)
class CatalogPhoto:
    photo_id: str
    event_id: str
    owner_id: str
    price_minor: int
    currency: str
    for_sale: bool
    # Key of the original in the uploads bucket: originals/<event_id>/<photo_id>.
    original_key: str
    # The object the upload pipeline hashed (ETag, and version id in a versioned bucket):
    # a download is granted only while the original is still exactly that object.
    original_etag: str = ""
    original_version_id: str = ""


class CatalogUnavailable(RuntimeError):
    """The photo catalog could not be asked (sidecar down, deadline exceeded)."""


class PhotoCatalog(Protocol):
    def get_photos(self, photo_ids: list[str], *, user: Principal | None = None) -> dict[str, CatalogPhoto]:
        """The photos among ``photo_ids`` that exist and ``user`` (the buyer) may see; others are absent."""
        ...


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
