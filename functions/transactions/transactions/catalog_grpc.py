"""The photo catalog backed by the photo sidecar's gRPC ``GetPhotos`` (an order's photos in one call)."""

from __future__ import annotations

import uuid
from typing import Any

from photostack import errors
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient, get_photo_client
from photostack.tokens import Principal

from transactions.catalog import CatalogPhoto, CatalogUnavailable


def to_catalog_photo(photo: Any) -> CatalogPhoto:
    # Only a processed, public, listed photo with a price can be sold; price 0 with no currency
    # means "not for sale"; an unlisted one was deleted by its owner (its buyers keep it).
    for_sale = (photo.status == pb.PHOTO_STATUS_READY and photo.price_minor > 0 and bool(photo.currency)
                and photo.visibility != pb.VISIBILITY_PRIVATE and not photo.unlisted)
    return CatalogPhoto(
        photo_id=photo.id, event_id=photo.event_id, owner_id=photo.owner_id,
        price_minor=int(photo.price_minor), currency=photo.currency, for_sale=for_sale,
        original_key=photo.original_key, original_etag=photo.original_etag,
        original_version_id=photo.original_version_id,
    )


class GrpcPhotoCatalog:
    def __init__(self, client: PhotoClient) -> None:
        self._client = client
        self._batch = True

    @classmethod
    def default(cls) -> GrpcPhotoCatalog:
        return cls(get_photo_client())

    def get_photos(self, photo_ids: list[str], *, user: Principal | None = None) -> dict[str, CatalogPhoto]:
        # Asked as the buyer (their token): a photo they may not see (a private event) is absent,
        # so it cannot be bought; one they bought stays visible to them (the sidecar's paywall).
        # The transactions function may not read photos on its own.
        if user is None:
            raise ValueError("the photo catalog is read on the buyer's behalf")
        canonical: dict[str, str] = {}  # the sidecar's form of each id -> the id as asked
        for pid in photo_ids:
            try:
                canonical[str(uuid.UUID(pid))] = pid
            except ValueError:
                continue  # the sidecar's ids are uuids: anything else is simply not a photo
        if not canonical:
            return {}
        try:
            if self._batch:
                # One call for the whole order (a 50-photo order made 50 sequential GetPhoto calls).
                try:
                    photos = list(self._client.get_photos(pb.GetPhotosRequest(photo_ids=list(canonical)),
                                                          user=user).photos)
                except errors.ApiError as exc:
                    if not _batch_unsupported(exc):
                        raise
                    # A sidecar older than GetPhotos (the function and the sidecar deploy on their
                    # own): its access table refuses the method, or it does not know it. Ask per
                    # photo, as before, from now on in this container.
                    self._batch = False
                    photos = self._one_by_one(list(canonical), user)
            else:
                photos = self._one_by_one(list(canonical), user)
        except errors.ServiceUnavailable as exc:
            raise CatalogUnavailable(str(exc)) from exc
        return {canonical[photo.id]: to_catalog_photo(photo) for photo in photos if photo.id in canonical}

    def _one_by_one(self, photo_ids: list[str], user: Principal) -> list[Any]:
        found = []
        for pid in photo_ids:
            try:
                found.append(self._client.get_photo(pb.GetPhotoRequest(photo_id=pid), user=user))
            except errors.NotFound:
                continue
        return found


def _batch_unsupported(exc: errors.ApiError) -> bool:
    """PERMISSION_DENIED (an older access table) or UNIMPLEMENTED (mapped to upstream_error)."""
    return isinstance(exc, errors.Forbidden) or getattr(exc, "code", "") == "upstream_error"
