"""The photo sidecar's client: the contract's PhotoService as typed methods, and nothing else.

How calls are made (identity, deadlines, retries on UNAVAILABLE with re-resolving through
Consul, the request id) is :class:`photostack.rpc.client.ServiceClient`'s and knows no
domain; which methods are safe to repeat is said by the proto itself
(``protos/photostack/photo/v1/photo.proto``, each method's ``idempotency_level``). What is
left here is one line per method, so call sites stay typed. Every method has the client's one
deadline: SetFaceIndexing's 10 s went when opting out stopped scanning every indexed face
(it stores or drops one row; searches apply references lazily, sidecar/face_index.py).
"""

from __future__ import annotations

from photostack.config import get_settings
from photostack.discovery import ServiceResolver, get_resolver
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc
from photostack.rpc.client import ServiceClient
from photostack.rpc.connect import ConnectIdentity
from photostack.tokens import Principal
from photostack.warm import WarmSlot

SERVICE = pb.DESCRIPTOR.services_by_name["PhotoService"]


class PhotoClient(ServiceClient):
    def __init__(self, resolver: ServiceResolver, *, deadline_s: float,
                 identity: ConnectIdentity | None = None) -> None:
        super().__init__(SERVICE, pb_grpc.PhotoServiceStub, resolver, deadline_s=deadline_s,
                         identity=identity, label="photo")

    def create_event(self, request: pb.CreateEventRequest, *, user: Principal | None = None) -> pb.Event:
        return self.call("CreateEvent", request, user)

    def list_events(self, request: pb.ListEventsRequest, *,
                    user: Principal | None = None) -> pb.ListEventsResponse:
        return self.call("ListEvents", request, user)

    def get_event(self, request: pb.GetEventRequest, *, user: Principal | None = None) -> pb.Event:
        return self.call("GetEvent", request, user)

    def reserve_photo(self, request: pb.ReservePhotoRequest, *, user: Principal | None = None) -> pb.Photo:
        return self.call("ReservePhoto", request, user)

    def register_derivatives(self, request: pb.RegisterDerivativesRequest, *,
                             user: Principal | None = None) -> pb.Photo:
        return self.call("RegisterDerivatives", request, user)

    def mark_failed(self, request: pb.MarkFailedRequest, *, user: Principal | None = None) -> pb.Photo:
        return self.call("MarkFailed", request, user)

    def list_idle_reservations(self, request: pb.ListIdleReservationsRequest, *,
                               user: Principal | None = None) -> pb.ListIdleReservationsResponse:
        return self.call("ListIdleReservations", request, user)

    def expire_reservation(self, request: pb.ExpireReservationRequest, *,
                           user: Principal | None = None) -> pb.Photo:
        return self.call("ExpireReservation", request, user)

    def mark_lost(self, request: pb.MarkLostRequest, *, user: Principal | None = None) -> pb.Photo:
        return self.call("MarkLost", request, user)

    def mark_lost_batch(self, request: pb.MarkLostBatchRequest, *,
                        user: Principal | None = None) -> pb.MarkLostBatchResponse:
        return self.call("MarkLostBatch", request, user)

    def get_photo(self, request: pb.GetPhotoRequest, *, user: Principal | None = None) -> pb.Photo:
        return self.call("GetPhoto", request, user)

    def get_photos(self, request: pb.GetPhotosRequest, *,
                   user: Principal | None = None) -> pb.GetPhotosResponse:
        return self.call("GetPhotos", request, user)

    def list_event_photos(self, request: pb.ListEventPhotosRequest, *,
                          user: Principal | None = None) -> pb.ListEventPhotosResponse:
        return self.call("ListEventPhotos", request, user)

    def update_photo(self, request: pb.UpdatePhotoRequest, *, user: Principal | None = None) -> pb.Photo:
        return self.call("UpdatePhoto", request, user)

    def delete_photo(self, request: pb.DeletePhotoRequest, *,
                     user: Principal | None = None) -> pb.DeletePhotoResponse:
        return self.call("DeletePhoto", request, user)

    def index_faces(self, request: pb.IndexFacesRequest, *,
                    user: Principal | None = None) -> pb.IndexFacesResponse:
        return self.call("IndexFaces", request, user)

    def search_faces(self, request: pb.SearchFacesRequest, *,
                     user: Principal | None = None) -> pb.SearchFacesResponse:
        return self.call("SearchFaces", request, user)

    def set_face_indexing(self, request: pb.SetFaceIndexingRequest, *,
                          user: Principal | None = None) -> pb.FaceIndexingState:
        return self.call("SetFaceIndexing", request, user)

    def index_bibs(self, request: pb.IndexBibsRequest, *,
                   user: Principal | None = None) -> pb.IndexBibsResponse:
        return self.call("IndexBibs", request, user)

    def get_photo_bibs(self, request: pb.GetPhotoBibsRequest, *,
                       user: Principal | None = None) -> pb.PhotoBibs:
        return self.call("GetPhotoBibs", request, user)

    def search_bibs(self, request: pb.SearchBibsRequest, *,
                    user: Principal | None = None) -> pb.SearchBibsResponse:
        return self.call("SearchBibs", request, user)


_client: WarmSlot[PhotoClient] = WarmSlot(
    "photo client", lambda: PhotoClient(get_resolver(), deadline_s=get_settings().grpc_deadline_s))


def get_photo_client() -> PhotoClient:
    """The client of this warm container, built from the settings on first use."""
    return _client.get()


def reset_photo_client() -> None:
    _client.install(None)
