"""The photo sidecar, over gRPC, as the upload pipeline's PhotoRegistry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from photostack import errors
from photostack.contract import STATUS_FROM_PB, derivative_kind
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient

from upload.ports import IdleReservation, OriginalInfo, PhotoStatus, RegistryRefused, StoredDerivative

_STATUS = {number: PhotoStatus(name) for number, name in STATUS_FROM_PB.items()}

# What the client raises when the sidecar answered "no" for good; ServiceUnavailable and
# anything else stays an exception, so Lambda retries the event.
_REFUSALS = (errors.NotFound, errors.Conflict, errors.BadRequest, errors.Forbidden)


def camera_name(make: str | None, model: str | None) -> str:
    make, model = (make or "").strip(), (model or "").strip()
    if make and model.lower().startswith(make.lower()):
        return model  # "Canon" + "Canon EOS R5"
    return " ".join(part for part in (make, model) if part)[:200]


class GrpcPhotoRegistry:
    """Calls made as the upload function itself: its Connect certificate is its identity."""

    def __init__(self, client: PhotoClient) -> None:
        self.client = client

    def get_status(self, photo_id: str) -> PhotoStatus | None:
        try:
            photo = self.client.get_photo(pb.GetPhotoRequest(photo_id=photo_id))
        except errors.NotFound:
            return None
        return _STATUS.get(photo.status)

    def register_derivatives(
        self, photo_id: str, *, original: OriginalInfo, derivatives: Sequence[StoredDerivative]
    ) -> None:
        request = pb.RegisterDerivativesRequest(
            photo_id=photo_id,
            derivatives=[
                pb.Derivative(kind=derivative_kind(x.size, x.format), key=x.key, width=x.width,
                              height=x.height, bytes=x.bytes, content_type=x.content_type)
                for x in derivatives
            ],
            width=original.width,
            height=original.height,
            original_bytes=original.bytes,
            sha256=original.sha256,
            original_etag=original.etag,
            original_version_id=original.version_id,
            camera=camera_name(original.camera_make, original.camera_model),
        )
        if original.captured_at:
            # EXIF has no time zone; the camera's clock is taken as UTC rather than guessed.
            taken = dt.datetime.fromisoformat(original.captured_at).replace(tzinfo=dt.UTC)
            request.captured_at.FromDatetime(taken)
        try:
            self.client.register_derivatives(request)
        except _REFUSALS as exc:
            raise RegistryRefused(str(exc)) from exc

    def mark_failed(self, photo_id: str, reason: str) -> None:
        try:
            request = pb.MarkFailedRequest(photo_id=photo_id, reason=reason)
            self.client.mark_failed(request)
        except _REFUSALS as exc:
            raise RegistryRefused(str(exc)) from exc

    # The reconciler's view: reservations whose bytes never came (upload/reconcile.py).
    def idle_reservations(self, idle_s: int, *, event_id: str, limit: int) -> list[IdleReservation]:
        reply = self.client.list_idle_reservations(
            pb.ListIdleReservationsRequest(idle_s=idle_s, event_id=event_id, limit=limit))
        return [IdleReservation(p.id, p.original_key) for p in reply.photos]

    def expire_reservation(self, photo_id: str, idle_s: int) -> PhotoStatus | None:
        try:
            photo = self.client.expire_reservation(
                pb.ExpireReservationRequest(photo_id=photo_id, idle_s=idle_s))
        except errors.NotFound:
            return None  # deleted meanwhile
        return _STATUS.get(photo.status)
