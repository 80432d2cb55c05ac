"""Priced, ready photos made straight in the photo sidecar, for transactions e2e tests and benches.

The upload pipeline is the normal way a photo becomes ready; here the test plays
that pipeline over gRPC so buying can be tested without uploading images.
"""

from __future__ import annotations

import hashlib
from typing import Any

from photostack.photo.v1 import photo_pb2 as pb
from photostack.rpc import PhotoClient

PIPELINE = pb.Caller(user_id="service:upload", role="service")


def priced_photos(client: PhotoClient, owner_id: str, count: int, *, price_minor: int | None = 1000,
                  currency: str = "EUR", originals: tuple[Any, str] | None = None) -> list[str]:
    """``count`` ready public photos of ``owner_id`` in a new event; unpriced when ``price_minor`` is None.

    With ``originals`` (an S3 client and the uploads bucket) each photo also gets an original
    object, recorded by its ETag as the pipeline records it, so that it can be downloaded. The
    photo is registered before the object is written, so the upload function skips it (ready).
    """
    caller = pb.Caller(user_id=owner_id, role="photographer")
    event = client.create_event(pb.CreateEventRequest(caller=caller, name="Finish line", date="2026-05-01",
                                                      visibility=pb.VISIBILITY_PUBLIC))
    ids: list[str] = []
    for _ in range(count):
        photo = client.reserve_photo(pb.ReservePhotoRequest(caller=caller, event_id=event.id,
                                                            content_type="image/jpeg", declared_bytes=1000))
        body = f"original of {photo.id}".encode()
        client.register_derivatives(pb.RegisterDerivativesRequest(
            caller=PIPELINE, photo_id=photo.id, width=10, height=10, original_bytes=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            # A single-part PUT's ETag is the MD5 of the body.
            original_etag=hashlib.md5(body).hexdigest() if originals else "",
            derivatives=[pb.Derivative(kind="web", key=f"web/{photo.id}.jpg", width=10, height=10,
                                       bytes=100, content_type="image/jpeg")]))
        if originals is not None:
            s3, bucket = originals
            s3.put_object(Bucket=bucket, Key=photo.original_key, Body=body, ContentType="image/jpeg")
        if price_minor is not None:
            client.update_photo(pb.UpdatePhotoRequest(caller=caller, photo_id=photo.id,
                                                      price_minor=price_minor, currency=currency))
        ids.append(photo.id)
    return ids
