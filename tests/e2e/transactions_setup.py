"""Priced, ready photos made straight in the photo sidecar, for transactions e2e tests and benches.

The upload pipeline is the normal way a photo becomes ready; here the test plays
that pipeline over gRPC so buying can be tested without uploading images: the
photographer's calls go through as the photos API on the photographer's behalf (their
token), the registration as the upload function (its own Connect identity).
"""

from __future__ import annotations

import hashlib
from typing import Any

from photostack.photo.v1 import photo_pb2 as pb

from tests.identity import SidecarRef, person, photo_client
from tests.made_events import MadeEvents


def priced_photos(sidecar: SidecarRef, owner_id: str, count: int, *, price_minor: int | None = 1000,
                  currency: str = "EUR", originals: tuple[Any, str] | None = None,
                  made: MadeEvents | None = None) -> list[str]:
    """``count`` ready public photos of ``owner_id`` in a new event; unpriced when ``price_minor`` is None.

    The event is recorded in ``made``, whose owner removes it when done: its photos are ready
    without their objects in the stack's S3 (the derivative is never written), which the storage
    check of ``make up`` would take for a loss.

    With ``originals`` (an S3 client and the uploads bucket) each photo also gets an original
    object, recorded by its ETag as the pipeline records it, so that it can be downloaded. The
    photo is registered before the object is written, so the upload function skips it (ready).
    """
    photos = photo_client(sidecar, "photostack-photos")
    pipeline = photo_client(sidecar, "photostack-upload")
    owner = person(owner_id, "photographer")
    event = photos.create_event(pb.CreateEventRequest(name="Finish line", date="2026-05-01",
                                                      visibility=pb.VISIBILITY_PUBLIC), user=owner)
    if made is not None:
        made.add(event.id)
    ids: list[str] = []
    for _ in range(count):
        photo = photos.reserve_photo(pb.ReservePhotoRequest(event_id=event.id, content_type="image/jpeg",
                                                            declared_bytes=1000), user=owner)
        body = f"original of {photo.id}".encode()
        pipeline.register_derivatives(pb.RegisterDerivativesRequest(
            photo_id=photo.id, width=10, height=10, original_bytes=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            # A single-part PUT's ETag is the MD5 of the body.
            original_etag=hashlib.md5(body).hexdigest() if originals else "",
            derivatives=[pb.Derivative(kind="web", key=f"web/{photo.id}.jpg", width=10, height=10,
                                       bytes=100, content_type="image/jpeg")]))
        if originals is not None:
            s3, bucket = originals
            s3.put_object(Bucket=bucket, Key=photo.original_key, Body=body, ContentType="image/jpeg")
        if price_minor is not None:
            photos.update_photo(pb.UpdatePhotoRequest(photo_id=photo.id, price_minor=price_minor,
                                                      currency=currency), user=owner)
        ids.append(photo.id)
    return ids
