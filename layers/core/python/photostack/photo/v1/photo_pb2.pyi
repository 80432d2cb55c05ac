import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Visibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIBILITY_UNSPECIFIED: _ClassVar[Visibility]
    VISIBILITY_PUBLIC: _ClassVar[Visibility]
    VISIBILITY_PRIVATE: _ClassVar[Visibility]

class PhotoStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PHOTO_STATUS_UNSPECIFIED: _ClassVar[PhotoStatus]
    PHOTO_STATUS_PENDING: _ClassVar[PhotoStatus]
    PHOTO_STATUS_READY: _ClassVar[PhotoStatus]
    PHOTO_STATUS_FAILED: _ClassVar[PhotoStatus]
VISIBILITY_UNSPECIFIED: Visibility
VISIBILITY_PUBLIC: Visibility
VISIBILITY_PRIVATE: Visibility
PHOTO_STATUS_UNSPECIFIED: PhotoStatus
PHOTO_STATUS_PENDING: PhotoStatus
PHOTO_STATUS_READY: PhotoStatus
PHOTO_STATUS_FAILED: PhotoStatus

class Event(_message.Message):
    __slots__ = ("id", "owner_id", "name", "date", "place", "visibility", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    PLACE_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    name: str
    date: str
    place: str
    visibility: Visibility
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., name: _Optional[str] = ..., date: _Optional[str] = ..., place: _Optional[str] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Derivative(_message.Message):
    __slots__ = ("kind", "key", "width", "height", "bytes", "content_type")
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    key: str
    width: int
    height: int
    bytes: int
    content_type: str
    def __init__(self, kind: _Optional[str] = ..., key: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., bytes: _Optional[int] = ..., content_type: _Optional[str] = ...) -> None: ...

class Photo(_message.Message):
    __slots__ = ("id", "event_id", "owner_id", "status", "original_key", "content_type", "declared_bytes", "derivatives", "width", "height", "original_bytes", "sha256", "captured_at", "camera", "price_minor", "currency", "visibility", "failure_reason", "created_at", "updated_at", "face_count", "faces_indexed_at", "full_access", "original_etag", "original_version_id", "unlisted")
    ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DECLARED_BYTES_FIELD_NUMBER: _ClassVar[int]
    DERIVATIVES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    PRICE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    FACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FACES_INDEXED_AT_FIELD_NUMBER: _ClassVar[int]
    FULL_ACCESS_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_ETAG_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    UNLISTED_FIELD_NUMBER: _ClassVar[int]
    id: str
    event_id: str
    owner_id: str
    status: PhotoStatus
    original_key: str
    content_type: str
    declared_bytes: int
    derivatives: _containers.RepeatedCompositeFieldContainer[Derivative]
    width: int
    height: int
    original_bytes: int
    sha256: str
    captured_at: _timestamp_pb2.Timestamp
    camera: str
    price_minor: int
    currency: str
    visibility: Visibility
    failure_reason: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    face_count: int
    faces_indexed_at: _timestamp_pb2.Timestamp
    full_access: bool
    original_etag: str
    original_version_id: str
    unlisted: bool
    def __init__(self, id: _Optional[str] = ..., event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., status: _Optional[_Union[PhotoStatus, str]] = ..., original_key: _Optional[str] = ..., content_type: _Optional[str] = ..., declared_bytes: _Optional[int] = ..., derivatives: _Optional[_Iterable[_Union[Derivative, _Mapping]]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., original_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., camera: _Optional[str] = ..., price_minor: _Optional[int] = ..., currency: _Optional[str] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., failure_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., face_count: _Optional[int] = ..., faces_indexed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., full_access: _Optional[bool] = ..., original_etag: _Optional[str] = ..., original_version_id: _Optional[str] = ..., unlisted: _Optional[bool] = ...) -> None: ...

class CreateEventRequest(_message.Message):
    __slots__ = ("name", "date", "place", "visibility", "idempotency_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    PLACE_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    date: str
    place: str
    visibility: Visibility
    idempotency_key: str
    def __init__(self, name: _Optional[str] = ..., date: _Optional[str] = ..., place: _Optional[str] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("mine_only", "limit", "cursor")
    MINE_ONLY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    mine_only: bool
    limit: int
    cursor: str
    def __init__(self, mine_only: _Optional[bool] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "next_cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    next_cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class ReservePhotoRequest(_message.Message):
    __slots__ = ("event_id", "content_type", "declared_bytes", "idempotency_key")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DECLARED_BYTES_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    content_type: str
    declared_bytes: int
    idempotency_key: str
    def __init__(self, event_id: _Optional[str] = ..., content_type: _Optional[str] = ..., declared_bytes: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class RegisterDerivativesRequest(_message.Message):
    __slots__ = ("photo_id", "derivatives", "width", "height", "original_bytes", "sha256", "captured_at", "camera", "original_etag", "original_version_id")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    DERIVATIVES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_ETAG_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    derivatives: _containers.RepeatedCompositeFieldContainer[Derivative]
    width: int
    height: int
    original_bytes: int
    sha256: str
    captured_at: _timestamp_pb2.Timestamp
    camera: str
    original_etag: str
    original_version_id: str
    def __init__(self, photo_id: _Optional[str] = ..., derivatives: _Optional[_Iterable[_Union[Derivative, _Mapping]]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., original_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., camera: _Optional[str] = ..., original_etag: _Optional[str] = ..., original_version_id: _Optional[str] = ...) -> None: ...

class MarkFailedRequest(_message.Message):
    __slots__ = ("photo_id", "reason")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    reason: str
    def __init__(self, photo_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GetPhotoRequest(_message.Message):
    __slots__ = ("photo_id",)
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    def __init__(self, photo_id: _Optional[str] = ...) -> None: ...

class GetPhotosRequest(_message.Message):
    __slots__ = ("photo_ids",)
    PHOTO_IDS_FIELD_NUMBER: _ClassVar[int]
    photo_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, photo_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPhotosResponse(_message.Message):
    __slots__ = ("photos",)
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    photos: _containers.RepeatedCompositeFieldContainer[Photo]
    def __init__(self, photos: _Optional[_Iterable[_Union[Photo, _Mapping]]] = ...) -> None: ...

class ListEventPhotosRequest(_message.Message):
    __slots__ = ("event_id", "limit", "cursor")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    limit: int
    cursor: str
    def __init__(self, event_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListEventPhotosResponse(_message.Message):
    __slots__ = ("photos", "next_cursor")
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    photos: _containers.RepeatedCompositeFieldContainer[Photo]
    next_cursor: str
    def __init__(self, photos: _Optional[_Iterable[_Union[Photo, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdatePhotoRequest(_message.Message):
    __slots__ = ("photo_id", "price_minor", "currency", "visibility")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    price_minor: int
    currency: str
    visibility: Visibility
    def __init__(self, photo_id: _Optional[str] = ..., price_minor: _Optional[int] = ..., currency: _Optional[str] = ..., visibility: _Optional[_Union[Visibility, str]] = ...) -> None: ...

class DeletePhotoRequest(_message.Message):
    __slots__ = ("photo_id",)
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    def __init__(self, photo_id: _Optional[str] = ...) -> None: ...

class DeletePhotoResponse(_message.Message):
    __slots__ = ("photo_id", "original_key", "derivative_keys")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_KEY_FIELD_NUMBER: _ClassVar[int]
    DERIVATIVE_KEYS_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    original_key: str
    derivative_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, photo_id: _Optional[str] = ..., original_key: _Optional[str] = ..., derivative_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class ListIdleReservationsRequest(_message.Message):
    __slots__ = ("idle_s", "limit", "event_id")
    IDLE_S_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    idle_s: int
    limit: int
    event_id: str
    def __init__(self, idle_s: _Optional[int] = ..., limit: _Optional[int] = ..., event_id: _Optional[str] = ...) -> None: ...

class ListIdleReservationsResponse(_message.Message):
    __slots__ = ("photos",)
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    photos: _containers.RepeatedCompositeFieldContainer[Photo]
    def __init__(self, photos: _Optional[_Iterable[_Union[Photo, _Mapping]]] = ...) -> None: ...

class ExpireReservationRequest(_message.Message):
    __slots__ = ("photo_id", "idle_s")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    IDLE_S_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    idle_s: int
    def __init__(self, photo_id: _Optional[str] = ..., idle_s: _Optional[int] = ...) -> None: ...

class MarkLostRequest(_message.Message):
    __slots__ = ("photo_id", "reason")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    reason: str
    def __init__(self, photo_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class MarkLostBatchRequest(_message.Message):
    __slots__ = ("photos",)
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    photos: _containers.RepeatedCompositeFieldContainer[MarkLostRequest]
    def __init__(self, photos: _Optional[_Iterable[_Union[MarkLostRequest, _Mapping]]] = ...) -> None: ...

class MarkLostBatchResponse(_message.Message):
    __slots__ = ("photos",)
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    photos: _containers.RepeatedCompositeFieldContainer[Photo]
    def __init__(self, photos: _Optional[_Iterable[_Union[Photo, _Mapping]]] = ...) -> None: ...

class Face(_message.Message):
    __slots__ = ("x1", "y1", "x2", "y2", "score", "embedding")
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    X2_FIELD_NUMBER: _ClassVar[int]
    Y2_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    embedding: bytes
    def __init__(self, x1: _Optional[float] = ..., y1: _Optional[float] = ..., x2: _Optional[float] = ..., y2: _Optional[float] = ..., score: _Optional[float] = ..., embedding: _Optional[bytes] = ...) -> None: ...

class IndexFacesRequest(_message.Message):
    __slots__ = ("photo_id", "faces")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    faces: _containers.RepeatedCompositeFieldContainer[Face]
    def __init__(self, photo_id: _Optional[str] = ..., faces: _Optional[_Iterable[_Union[Face, _Mapping]]] = ...) -> None: ...

class IndexFacesResponse(_message.Message):
    __slots__ = ("photo_id", "face_count", "faces_indexed_at")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    FACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FACES_INDEXED_AT_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    face_count: int
    faces_indexed_at: _timestamp_pb2.Timestamp
    def __init__(self, photo_id: _Optional[str] = ..., face_count: _Optional[int] = ..., faces_indexed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SearchFacesRequest(_message.Message):
    __slots__ = ("event_id", "embedding", "threshold", "limit", "cursor")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    embedding: bytes
    threshold: float
    limit: int
    cursor: str
    def __init__(self, event_id: _Optional[str] = ..., embedding: _Optional[bytes] = ..., threshold: _Optional[float] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class FaceMatch(_message.Message):
    __slots__ = ("photo", "score")
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    photo: Photo
    score: float
    def __init__(self, photo: _Optional[_Union[Photo, _Mapping]] = ..., score: _Optional[float] = ...) -> None: ...

class SearchFacesResponse(_message.Message):
    __slots__ = ("matches", "next_cursor")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[FaceMatch]
    next_cursor: str
    def __init__(self, matches: _Optional[_Iterable[_Union[FaceMatch, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class SetFaceIndexingRequest(_message.Message):
    __slots__ = ("enabled", "reference_embedding")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    reference_embedding: bytes
    def __init__(self, enabled: _Optional[bool] = ..., reference_embedding: _Optional[bytes] = ...) -> None: ...

class FaceIndexingState(_message.Message):
    __slots__ = ("enabled", "changed")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    changed: bool
    def __init__(self, enabled: _Optional[bool] = ..., changed: _Optional[bool] = ...) -> None: ...

class Bib(_message.Message):
    __slots__ = ("number", "confidence", "x1", "y1", "x2", "y2")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    X2_FIELD_NUMBER: _ClassVar[int]
    Y2_FIELD_NUMBER: _ClassVar[int]
    number: str
    confidence: float
    x1: float
    y1: float
    x2: float
    y2: float
    def __init__(self, number: _Optional[str] = ..., confidence: _Optional[float] = ..., x1: _Optional[float] = ..., y1: _Optional[float] = ..., x2: _Optional[float] = ..., y2: _Optional[float] = ...) -> None: ...

class IndexBibsRequest(_message.Message):
    __slots__ = ("photo_id", "bibs")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    BIBS_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    bibs: _containers.RepeatedCompositeFieldContainer[Bib]
    def __init__(self, photo_id: _Optional[str] = ..., bibs: _Optional[_Iterable[_Union[Bib, _Mapping]]] = ...) -> None: ...

class IndexBibsResponse(_message.Message):
    __slots__ = ("photo_id", "bib_count", "bibs_indexed_at")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    BIB_COUNT_FIELD_NUMBER: _ClassVar[int]
    BIBS_INDEXED_AT_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    bib_count: int
    bibs_indexed_at: _timestamp_pb2.Timestamp
    def __init__(self, photo_id: _Optional[str] = ..., bib_count: _Optional[int] = ..., bibs_indexed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPhotoBibsRequest(_message.Message):
    __slots__ = ("photo_id",)
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    def __init__(self, photo_id: _Optional[str] = ...) -> None: ...

class PhotoBibs(_message.Message):
    __slots__ = ("photo_id", "bibs_indexed_at", "bibs")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    BIBS_INDEXED_AT_FIELD_NUMBER: _ClassVar[int]
    BIBS_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    bibs_indexed_at: _timestamp_pb2.Timestamp
    bibs: _containers.RepeatedCompositeFieldContainer[Bib]
    def __init__(self, photo_id: _Optional[str] = ..., bibs_indexed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bibs: _Optional[_Iterable[_Union[Bib, _Mapping]]] = ...) -> None: ...

class SearchBibsRequest(_message.Message):
    __slots__ = ("event_id", "number", "limit", "cursor")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    number: str
    limit: int
    cursor: str
    def __init__(self, event_id: _Optional[str] = ..., number: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class BibMatch(_message.Message):
    __slots__ = ("photo", "bib")
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    BIB_FIELD_NUMBER: _ClassVar[int]
    photo: Photo
    bib: Bib
    def __init__(self, photo: _Optional[_Union[Photo, _Mapping]] = ..., bib: _Optional[_Union[Bib, _Mapping]] = ...) -> None: ...

class SearchBibsResponse(_message.Message):
    __slots__ = ("matches", "next_cursor")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[BibMatch]
    next_cursor: str
    def __init__(self, matches: _Optional[_Iterable[_Union[BibMatch, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
