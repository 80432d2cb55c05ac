"""Client of the photo sidecar: discovery, deadlines, one retry, errors as HTTP errors.

Every call has one overall deadline (``PHOTOSTACK_GRPC_DEADLINE_MS``). Within it, a
call that finds no healthy instance waits for one (re-resolving through Consul every
``RESOLVE_PAUSE_S``), so an instance that returns from a restart is used within moments,
whatever this warm environment saw before; an idempotent call that meets UNAVAILABLE
is retried, on another instance when there is one, after forgetting the address and
asking Consul again. CreateEvent and ReservePhoto count as idempotent only when they
carry an idempotency key. Failures come back as :mod:`photostack.errors`,
so a sidecar that is down becomes a 503 and never a hang.
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
from photostack.rpc.status import to_api_error, unavailable
from photostack.tokens import Principal
from photostack.warm import WarmSlot

log = get_logger("rpc.photo")

_ALWAYS_IDEMPOTENT = frozenset({
    "GetEvent", "ListEvents", "GetPhoto", "ListEventPhotos",
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


def caller_of(principal: Principal) -> pb.Caller:
    return pb.Caller(user_id=principal.user_id, role=principal.role)


def service_caller(name: str) -> pb.Caller:
    """The caller identity of an internal function (the upload pipeline)."""
    return pb.Caller(user_id=f"service:{name}", role="service")


class PhotoClient:
    def __init__(self, resolver: ServiceResolver, *, deadline_s: float) -> None:
        self._resolver = resolver
        self._deadline_s = deadline_s

    def _call(self, method: str, request: Any) -> Any:
        retryable = method in _ALWAYS_IDEMPOTENT or (
            method in _IDEMPOTENT_WITH_KEY and bool(request.idempotency_key))
        return self._attempts(method, request, retryable=retryable,
                              deadline_s=max(self._deadline_s, _LONG_DEADLINE_S.get(method, 0.0)))

    def _invoke(self, address: str, method: str, request: Any, timeout: float) -> Any:
        ch = channels.channel(address)
        if method == "Health":
            reply = health_pb2_grpc.HealthStub(ch).Check(request, timeout=timeout)
            if reply.status != health_pb2.HealthCheckResponse.SERVING:
                raise unavailable("the photo service is not serving")
            return reply
        return getattr(pb_grpc.PhotoServiceStub(ch), method)(request, timeout=timeout,
                                                            metadata=trace_metadata())

    def _attempts(self, method: str, request: Any, *, retryable: bool,
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
                return self._invoke(address, method, request, remaining)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
                    raise to_api_error(exc) from exc
                log.warning("photo sidecar unavailable", extra={"method": method, "address": address})
                self._resolver.forget(address)
                self._resolver.invalidate()
                tried.append(address)
                last = exc
                if not retryable:
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

    def create_event(self, request: pb.CreateEventRequest) -> pb.Event:
        return self._call("CreateEvent", request)

    def list_events(self, request: pb.ListEventsRequest) -> pb.ListEventsResponse:
        return self._call("ListEvents", request)

    def get_event(self, request: pb.GetEventRequest) -> pb.Event:
        return self._call("GetEvent", request)

    def reserve_photo(self, request: pb.ReservePhotoRequest) -> pb.Photo:
        return self._call("ReservePhoto", request)

    def register_derivatives(self, request: pb.RegisterDerivativesRequest) -> pb.Photo:
        return self._call("RegisterDerivatives", request)

    def mark_failed(self, request: pb.MarkFailedRequest) -> pb.Photo:
        return self._call("MarkFailed", request)

    def get_photo(self, request: pb.GetPhotoRequest) -> pb.Photo:
        return self._call("GetPhoto", request)

    def list_event_photos(self, request: pb.ListEventPhotosRequest) -> pb.ListEventPhotosResponse:
        return self._call("ListEventPhotos", request)

    def update_photo(self, request: pb.UpdatePhotoRequest) -> pb.Photo:
        return self._call("UpdatePhoto", request)

    def delete_photo(self, request: pb.DeletePhotoRequest) -> pb.DeletePhotoResponse:
        return self._call("DeletePhoto", request)

    def index_faces(self, request: pb.IndexFacesRequest) -> pb.IndexFacesResponse:
        return self._call("IndexFaces", request)

    def search_faces(self, request: pb.SearchFacesRequest) -> pb.SearchFacesResponse:
        return self._call("SearchFaces", request)

    def set_face_indexing(self, request: pb.SetFaceIndexingRequest) -> pb.FaceIndexingState:
        return self._call("SetFaceIndexing", request)

    def index_bibs(self, request: pb.IndexBibsRequest) -> pb.IndexBibsResponse:
        return self._call("IndexBibs", request)

    def get_photo_bibs(self, request: pb.GetPhotoBibsRequest) -> pb.PhotoBibs:
        return self._call("GetPhotoBibs", request)

    def search_bibs(self, request: pb.SearchBibsRequest) -> pb.SearchBibsResponse:
        return self._call("SearchBibs", request)


_client: WarmSlot[PhotoClient] = WarmSlot(
    "photo client", lambda: PhotoClient(get_resolver(), deadline_s=get_settings().grpc_deadline_s))


def get_photo_client() -> PhotoClient:
    """The client of this warm container, built from the settings on first use."""
    return _client.get()


def reset_photo_client() -> None:
    _client.install(None)



