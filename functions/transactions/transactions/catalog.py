"""What the transactions domain needs to know about photos, and from where.

The photo sidecar owns photos; this domain only reads owner, price and the
original's S3 key. Services take any :class:`PhotoCatalog`; production uses the
gRPC client of the sidecar (the tests' in-memory stand-in lives in tests/).
"""

from __future__ import annotations

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
