"""A photo catalog held in a dict: stands in for the photo sidecar in transactions tests and the
benchmark (PostgreSQL and Redis stay real). Test code, so it is not shipped with the function."""

from __future__ import annotations

import threading
from collections.abc import Iterable

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
