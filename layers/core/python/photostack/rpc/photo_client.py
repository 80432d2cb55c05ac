"""Client of the photo sidecar: identity, discovery, deadlines, one retry, errors as HTTP errors.

Who calls: every call is made over mutual TLS with this function's Consul Connect
certificate (:mod:`photostack.rpc.connect`), which tells the sidecar which service is
calling. A call made on a person's behalf passes their verified :class:`Principal`
(``user=principal``) and carries their access token as ``authorization: Bearer``; the
sidecar verifies it and acts as that person. A call without ``user`` is the function's
own (upload registering derivatives, faces indexing), and the sidecar allows each
function only the methods it needs (sidecar/access.py).

Every call has one overall deadline (``PHOTOSTACK_GRPC_DEADLINE_MS``). Within it, a
call that finds no healthy instance waits for one (re-resolving through Consul every
``RESOLVE_PAUSE_S``), so an instance that returns from a restart is used within moments,
whatever this warm environment saw before; an idempotent call that meets UNAVAILABLE
is retried, on another instance when there is one, after dropping the address's channel
(the next one connects at once, no reconnect backoff), asking Consul again and re-reading
the certificate (the CA may have rotated). CreateEvent and ReservePhoto count as
idempotent only when they carry an idempotency key; any call is tried again when its
connection failed before the request left (``never_sent``: a restarted sidecar's new
serving certificate fails the old channel's handshake). Failures come back as
:mod:`photostack.errors`, so a sidecar that is down becomes a 503 and never a hang.
"""

from __future__ import annotations

import time
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from photostack.config import get_settings
from photostack.discovery import NoInstances, ServiceResolver, get_resolver
from photostack.jsonlog import get_logger, request_id_var
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc
from photostack.rpc import channels
from photostack.rpc.connect import ConnectIdentity, IdentityUnavailable, identity_from_environment
from photostack.rpc.status import to_api_error, unavailable
from photostack.tokens import Principal
from photostack.warm import WarmSlot

log = get_logger("rpc.photo")

_ALWAYS_IDEMPOTENT = frozenset({
    "GetEvent", "ListEvents", "GetPhoto", "GetPhotos", "ListEventPhotos",
    "RegisterDerivatives", "MarkFailed", "UpdatePhoto",
    "IndexFaces", "SearchFaces", "SetFaceIndexing",  # IndexFaces replaces, the others read or set
    "IndexBibs", "GetPhotoBibs", "SearchBibs",  # IndexBibs replaces, the others read
})
_IDEMPOTENT_WITH_KEY = frozenset({"CreateEvent", "ReservePhoto"})
# Opting out compares the reference with every indexed face (see sidecar/face_service.py): a
# batch job run inside a request, so it gets more time than a page view. Still well inside the
# photos function's timeout.
_LONG_DEADLINE_S = {"SetFaceIndexing": 10.0}
HEALTH_SERVICE = "photostack.photo.v1.PhotoService"
RESOLVE_PAUSE_S = 0.1  # between looks for an instance while none answers


REQUEST_ID_METADATA = "x-request-id"


def trace_metadata() -> tuple[tuple[str, str], ...]:
    """The request id of this invocation, so the sidecar's log lines join the request's path."""
    request_id = request_id_var.get()
    return ((REQUEST_ID_METADATA, request_id),) if request_id else ()


def never_sent(exc: grpc.RpcError) -> bool:
    """UNAVAILABLE before the request left: no connection (a restarted sidecar presents a new
    certificate, so the old channel's handshake fails). Any call may be tried again then."""
    details = exc.details() or ""  # type: ignore[attr-defined]
    return details.startswith("failed to connect to all addresses")


def user_metadata(user: Principal | None) -> tuple[tuple[str, str], ...] | None:
    """The gRPC metadata of a call on ``user``'s behalf (None: the function's own call)."""
    if user is None:
        return None
    if not user.access_token:
        raise ValueError("a call on a user's behalf needs their verified token (Principal.access_token)")
    return (("authorization", f"Bearer {user.access_token}"),)


class PhotoClient:
    def __init__(self, resolver: ServiceResolver, *, deadline_s: float,
                 identity: ConnectIdentity | None = None) -> None:
        self._resolver = resolver
        self._deadline_s = deadline_s
        self._identity = identity

    @property
    def identity(self) -> ConnectIdentity:
        if self._identity is None:  # built on first call: a unit test that never calls needs no Consul
            self._identity = identity_from_environment()
        return self._identity

    def _call(self, method: str, request: Any, user: Principal | None) -> Any:
        retryable = method in _ALWAYS_IDEMPOTENT or (
            method in _IDEMPOTENT_WITH_KEY and bool(request.idempotency_key))
        return self._attempts(method, request, retryable=retryable, metadata=user_metadata(user),
                              deadline_s=max(self._deadline_s, _LONG_DEADLINE_S.get(method, 0.0)))

    def _invoke(self, address: str, method: str, request: Any, timeout: float,
                metadata: tuple[tuple[str, str], ...] | None) -> Any:
        pins = self._resolver.pinned(address)
        if pins is None:
            raise IdentityUnavailable(f"Consul lists no serving certificate for {address}")
        ch = channels.channel(address, self.identity.current(), pins, self._resolver.service)
        if method == "Health":
            reply = health_pb2_grpc.HealthStub(ch).Check(request, timeout=timeout)
            if reply.status != health_pb2.HealthCheckResponse.SERVING:
                raise unavailable("the photo service is not serving")
            return reply
        return getattr(pb_grpc.PhotoServiceStub(ch), method)(
            request, timeout=timeout, metadata=(*(metadata or ()), *trace_metadata()))

    def _recover(self, address: str) -> None:
        """After UNAVAILABLE: reconnect afresh, ask Consul again, re-read the certificate."""
        self._resolver.forget(address)
        self._resolver.invalidate()
        channels.forget(address)
        try:
            self.identity.refresh()
        except IdentityUnavailable as exc:
            log.warning("cannot refresh the Connect certificate", extra={"error": str(exc)})

    def _attempts(self, method: str, request: Any, *, retryable: bool,
                  metadata: tuple[tuple[str, str], ...] | None = None,
                  deadline_s: float | None = None) -> Any:
        end = time.monotonic() + (deadline_s or self._deadline_s)
        tried: list[str] = []
        last: grpc.RpcError | None = None
        while time.monotonic() < end:
            try:
                # Prefer an instance not tried yet; once all have failed, any that Consul
                # lists again (it may be back) is worth another try.
                address = self._pick(tried)
            except NoInstances as exc:
                # Nothing was sent, so waiting is safe for every call, idempotent or not.
                log.warning("no photo sidecar", extra={"method": method, "error": str(exc)})
                self._pause(end)
                continue
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            try:
                return self._invoke(address, method, request, remaining, metadata)
            except IdentityUnavailable as exc:
                # Nothing was sent: no certificate of ours, or none listed for the instance yet.
                log.warning("no mTLS identity for this call", extra={"method": method, "error": str(exc)})
                self._recover(address)
                tried.append(address)
                self._pause(end)
                continue
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
                    raise to_api_error(exc) from exc
                log.warning("photo sidecar unavailable", extra={
                    "method": method, "address": address, "details": exc.details()})  # type: ignore[attr-defined]
                self._recover(address)
                tried.append(address)
                last = exc
                if not retryable and not never_sent(exc):
                    break
                self._pause(end)
        if last is not None:
            raise to_api_error(last) from last
        raise unavailable()

    def _pick(self, tried: list[str]) -> str:
        try:
            return self._resolver.pick(exclude=tried)
        except NoInstances:
            if not tried:
                raise
            return self._resolver.pick()

    @staticmethod
    def _pause(end: float) -> None:
        time.sleep(max(0.0, min(RESOLVE_PAUSE_S, end - time.monotonic())))

    def health(self) -> None:
        """Raises ServiceUnavailable unless a photo sidecar answers SERVING."""
        self._attempts("Health", health_pb2.HealthCheckRequest(service=HEALTH_SERVICE), retryable=True)

    def create_event(self, request: pb.CreateEventRequest, *, user: Principal | None = None) -> pb.Event:
        return self._call("CreateEvent", request, user)

    def list_events(self, request: pb.ListEventsRequest, *,
                    user: Principal | None = None) -> pb.ListEventsResponse:
        return self._call("ListEvents", request, user)

    def get_event(self, request: pb.GetEventRequest, *, user: Principal | None = None) -> pb.Event:
        return self._call("GetEvent", request, user)

    def reserve_photo(self, request: pb.ReservePhotoRequest, *, user: Principal | None = None) -> pb.Photo:
        return self._call("ReservePhoto", request, user)

    def register_derivatives(self, request: pb.RegisterDerivativesRequest, *,
                             user: Principal | None = None) -> pb.Photo:
        return self._call("RegisterDerivatives", request, user)

    def mark_failed(self, request: pb.MarkFailedRequest, *, user: Principal | None = None) -> pb.Photo:
        return self._call("MarkFailed", request, user)

    def list_idle_reservations(self, request: pb.ListIdleReservationsRequest, *,
                               user: Principal | None = None) -> pb.ListIdleReservationsResponse:
        return self._call("ListIdleReservations", request, user)

    def expire_reservation(self, request: pb.ExpireReservationRequest, *,
                           user: Principal | None = None) -> pb.Photo:
        return self._call("ExpireReservation", request, user)

    def get_photo(self, request: pb.GetPhotoRequest, *, user: Principal | None = None) -> pb.Photo:
        return self._call("GetPhoto", request, user)

    def get_photos(self, request: pb.GetPhotosRequest, *,
                   user: Principal | None = None) -> pb.GetPhotosResponse:
        return self._call("GetPhotos", request, user)

    def list_event_photos(self, request: pb.ListEventPhotosRequest, *,
                          user: Principal | None = None) -> pb.ListEventPhotosResponse:
        return self._call("ListEventPhotos", request, user)

    def update_photo(self, request: pb.UpdatePhotoRequest, *, user: Principal | None = None) -> pb.Photo:
        return self._call("UpdatePhoto", request, user)

    def delete_photo(self, request: pb.DeletePhotoRequest, *,
                     user: Principal | None = None) -> pb.DeletePhotoResponse:
        return self._call("DeletePhoto", request, user)

    def index_faces(self, request: pb.IndexFacesRequest, *,
                    user: Principal | None = None) -> pb.IndexFacesResponse:
        return self._call("IndexFaces", request, user)

    def search_faces(self, request: pb.SearchFacesRequest, *,
                     user: Principal | None = None) -> pb.SearchFacesResponse:
        return self._call("SearchFaces", request, user)

    def set_face_indexing(self, request: pb.SetFaceIndexingRequest, *,
                          user: Principal | None = None) -> pb.FaceIndexingState:
        return self._call("SetFaceIndexing", request, user)

    def index_bibs(self, request: pb.IndexBibsRequest, *,
                   user: Principal | None = None) -> pb.IndexBibsResponse:
        return self._call("IndexBibs", request, user)

    def get_photo_bibs(self, request: pb.GetPhotoBibsRequest, *,
                       user: Principal | None = None) -> pb.PhotoBibs:
        return self._call("GetPhotoBibs", request, user)

    def search_bibs(self, request: pb.SearchBibsRequest, *,
                    user: Principal | None = None) -> pb.SearchBibsResponse:
        return self._call("SearchBibs", request, user)


_client: WarmSlot[PhotoClient] = WarmSlot(
    "photo client", lambda: PhotoClient(get_resolver(), deadline_s=get_settings().grpc_deadline_s))


def get_photo_client() -> PhotoClient:
    """The client of this warm container, built from the settings on first use."""
    return _client.get()


def reset_photo_client() -> None:
    _client.install(None)



