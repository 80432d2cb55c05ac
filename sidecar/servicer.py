"""``PhotoService`` over gRPC: unpack the request, call the service, pack the answer.

The one decorator :func:`rpc` puts each call under its deadline and turns domain
errors into gRPC status codes. Who calls comes from :func:`sidecar.identity.caller_of`
(verified before the handler runs), never from the request.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import grpc
import psycopg2
from photostack.jsonlog import elapsed_ms, get_logger, request_id_var
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc
from photostack.rpc.client import REQUEST_ID_METADATA

from sidecar import bib_messages as bm
from sidecar import domain as d
from sidecar import messages as m
from sidecar.bib_service import BibService
from sidecar.deadline import DeadlineExceeded, call_deadline
from sidecar.face_service import FaceService
from sidecar.identity import caller_of
from sidecar.memo import IdentityMemo
from sidecar.service import PhotoService

log = get_logger("sidecar.rpc")

STATUS_OF: dict[type[d.PhotoError], grpc.StatusCode] = {
    d.NotFound: grpc.StatusCode.NOT_FOUND,
    d.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    d.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    d.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    d.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
}


def _request_id(context: grpc.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_METADATA:
            return str(value)[:128]
    return None


def rpc(method: Callable[[Any, Any, grpc.ServicerContext], Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapped(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        # The calling function's request id (gRPC metadata), so this call's log lines join the
        # request's path (`make logs REQUEST=<id>`).
        traced = request_id_var.set(_request_id(context))
        start = time.perf_counter()
        try:
            with call_deadline(context.time_remaining()):
                return method(self, request, context)
        except d.PhotoError as exc:
            context.abort(STATUS_OF.get(type(exc), grpc.StatusCode.INVALID_ARGUMENT), str(exc))
        except DeadlineExceeded as exc:
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            # The database unreachable or restarting is transient, not a bug: UNAVAILABLE lets
            # callers retry (503, the upload pipeline's retry) instead of reporting a failure.
            log.warning("database unreachable", extra={"method": method.__name__, "error": str(exc)[:200]})
            context.abort(grpc.StatusCode.UNAVAILABLE, "the photo database is unavailable")
        except Exception:
            log.exception("rpc failed", extra={"method": method.__name__})
            context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            log.info("rpc", extra={"method": method.__name__, "duration_ms": elapsed_ms(start)})
            request_id_var.reset(traced)

    return wrapped


class PhotoServicer(pb_grpc.PhotoServiceServicer):
    def __init__(self, service: PhotoService, faces: FaceService, bibs: BibService) -> None:
        self._svc = service
        self._faces = faces
        self._bibs = bibs
        # The page's photos come back as the same view objects while the page is unchanged
        # (PhotoService.list_event_photos), so their messages are remembered too. The response
        # holds copies: building it copies each message in.
        self._page_photo = IdentityMemo(m.photo)

    @rpc
    def CreateEvent(self, request: pb.CreateEventRequest, context: grpc.ServicerContext) -> pb.Event:
        return m.event(self._svc.create_event(caller_of(context), m.new_event(request)))

    @rpc
    def ListEvents(self, request: pb.ListEventsRequest,
                   context: grpc.ServicerContext) -> pb.ListEventsResponse:
        page = self._svc.list_events(caller_of(context), mine_only=request.mine_only,
                                     limit=request.limit, cursor=request.cursor)
        return pb.ListEventsResponse(events=[m.event(e) for e in page.items], next_cursor=page.next_cursor)

    @rpc
    def GetEvent(self, request: pb.GetEventRequest, context: grpc.ServicerContext) -> pb.Event:
        return m.event(self._svc.get_event(caller_of(context), request.event_id))

    @rpc
    def ReservePhoto(self, request: pb.ReservePhotoRequest, context: grpc.ServicerContext) -> pb.Photo:
        photo = self._svc.reserve_photo(caller_of(context), request.event_id, request.content_type,
                                        request.declared_bytes, request.idempotency_key)
        return m.photo(photo)

    @rpc
    def RegisterDerivatives(self, request: pb.RegisterDerivativesRequest,
                            context: grpc.ServicerContext) -> pb.Photo:
        return m.photo(self._svc.register_derivatives(caller_of(context), request.photo_id,
                                                      m.processed(request)))

    @rpc
    def MarkFailed(self, request: pb.MarkFailedRequest, context: grpc.ServicerContext) -> pb.Photo:
        return m.photo(self._svc.mark_failed(caller_of(context), request.photo_id, request.reason))

    @rpc
    def GetPhoto(self, request: pb.GetPhotoRequest, context: grpc.ServicerContext) -> pb.Photo:
        return m.photo(self._svc.get_photo(caller_of(context), request.photo_id))

    @rpc
    def GetPhotos(self, request: pb.GetPhotosRequest, context: grpc.ServicerContext) -> pb.GetPhotosResponse:
        photos = self._svc.get_photos(caller_of(context), list(request.photo_ids))
        return pb.GetPhotosResponse(photos=[m.photo(p) for p in photos])

    @rpc
    def ListEventPhotos(self, request: pb.ListEventPhotosRequest,
                        context: grpc.ServicerContext) -> pb.ListEventPhotosResponse:
        page = self._svc.list_event_photos(caller_of(context), request.event_id, limit=request.limit,
                                           cursor=request.cursor)
        return pb.ListEventPhotosResponse(photos=[self._page_photo(p) for p in page.items],
                                          next_cursor=page.next_cursor)

    @rpc
    def UpdatePhoto(self, request: pb.UpdatePhotoRequest, context: grpc.ServicerContext) -> pb.Photo:
        return m.photo(self._svc.update_photo(caller_of(context), request.photo_id, m.change(request)))

    @rpc
    def DeletePhoto(self, request: pb.DeletePhotoRequest,
                    context: grpc.ServicerContext) -> pb.DeletePhotoResponse:
        photo = self._svc.delete_photo(caller_of(context), request.photo_id)
        return pb.DeletePhotoResponse(photo_id=photo.id, original_key=photo.original_key,
                                      derivative_keys=[x.key for x in photo.derivatives])

    @rpc
    def ListIdleReservations(self, request: pb.ListIdleReservationsRequest,
                             context: grpc.ServicerContext) -> pb.ListIdleReservationsResponse:
        photos = self._svc.list_idle_reservations(caller_of(context), idle_s=request.idle_s,
                                                  event_id=request.event_id, limit=request.limit)
        return pb.ListIdleReservationsResponse(photos=[m.photo(p) for p in photos])

    @rpc
    def ExpireReservation(self, request: pb.ExpireReservationRequest,
                          context: grpc.ServicerContext) -> pb.Photo:
        return m.photo(self._svc.expire_reservation(caller_of(context), request.photo_id,
                                                    idle_s=request.idle_s))

    @rpc
    def MarkLost(self, request: pb.MarkLostRequest, context: grpc.ServicerContext) -> pb.Photo:
        return m.photo(self._svc.mark_lost(caller_of(context), request.photo_id, request.reason))

    @rpc
    def MarkLostBatch(self, request: pb.MarkLostBatchRequest,
                      context: grpc.ServicerContext) -> pb.MarkLostBatchResponse:
        photos = self._svc.mark_lost_many(caller_of(context),
                                          [(x.photo_id, x.reason) for x in request.photos])
        return pb.MarkLostBatchResponse(photos=[m.photo(p) for p in photos])

    @rpc
    def IndexFaces(self, request: pb.IndexFacesRequest,
                   context: grpc.ServicerContext) -> pb.IndexFacesResponse:
        done = self._faces.index_faces(caller_of(context), request.photo_id, m.new_faces(request))
        return pb.IndexFacesResponse(photo_id=done.photo_id, face_count=done.face_count,
                                     faces_indexed_at=m.timestamp(done.indexed_at))

    @rpc
    def SearchFaces(self, request: pb.SearchFacesRequest,
                    context: grpc.ServicerContext) -> pb.SearchFacesResponse:
        page = self._faces.search_faces(caller_of(context), request.event_id, request.embedding,
                                        threshold=request.threshold, limit=request.limit,
                                        cursor=request.cursor)
        return pb.SearchFacesResponse(matches=[pb.FaceMatch(photo=m.photo(x.photo), score=x.score)
                                               for x in page.items], next_cursor=page.next_cursor)

    @rpc
    def SetFaceIndexing(self, request: pb.SetFaceIndexingRequest,
                        context: grpc.ServicerContext) -> pb.FaceIndexingState:
        state = self._faces.set_face_indexing(caller_of(context), enabled=request.enabled,
                                              reference=request.reference_embedding)
        return pb.FaceIndexingState(enabled=state.enabled, changed=state.changed)

    @rpc
    def IndexBibs(self, request: pb.IndexBibsRequest, context: grpc.ServicerContext) -> pb.IndexBibsResponse:
        done = self._bibs.index_bibs(caller_of(context), request.photo_id, bm.new_bibs(request))
        return pb.IndexBibsResponse(photo_id=done.photo_id, bib_count=done.bib_count,
                                    bibs_indexed_at=m.timestamp(done.indexed_at))

    @rpc
    def GetPhotoBibs(self, request: pb.GetPhotoBibsRequest, context: grpc.ServicerContext) -> pb.PhotoBibs:
        found = self._bibs.photo_bibs(caller_of(context), request.photo_id)
        return pb.PhotoBibs(photo_id=found.photo_id, bibs_indexed_at=m.timestamp(found.indexed_at),
                            bibs=[bm.bib(x) for x in found.bibs])

    @rpc
    def SearchBibs(self, request: pb.SearchBibsRequest,
                   context: grpc.ServicerContext) -> pb.SearchBibsResponse:
        page = self._bibs.search_bibs(caller_of(context), request.event_id, request.number,
                                      limit=request.limit, cursor=request.cursor)
        return pb.SearchBibsResponse(matches=[pb.BibMatch(photo=m.photo(x.photo), bib=bm.bib(x.bib))
                                              for x in page.items], next_cursor=page.next_cursor)
