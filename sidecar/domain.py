"""Events and photos: the data, the rules on who may see or change what, no I/O."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from photostack import contract
from photostack.contract import (
    CALLER_ROLES,
    CONTENT_TYPES,
    EVENT_CREATORS,
    FREE_SIZES,
    MAX_UPLOAD_BYTES,
    PENDING,
    PUBLIC,
    READY,
    VISIBILITIES,
)

MAX_PRICE_MINOR = 100_000_000
MAX_REASON_CHARS = 500
DEFAULT_PAGE = 50
MAX_PAGE = 100

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

# The paywall (contract.FREE_SIZES): people who have not bought a photo get only the small
# thumbnail and the watermarked preview. Every other kind (the clean web size, anything added
# later) and the original go only to the owner, to buyers, to admins and to internal services.


class PhotoError(Exception):
    """A request the contract refuses; the servicer maps each kind to a gRPC status."""


class NotFound(PhotoError):
    pass


class PermissionDenied(PhotoError):
    pass


class InvalidArgument(PhotoError):
    pass


class FailedPrecondition(PhotoError):
    pass


class AlreadyExists(PhotoError):
    pass


@dataclass(frozen=True)
class Caller:
    user_id: str
    role: str

    @property
    def privileged(self) -> bool:
        """Admins and internal services see and process everything."""
        return self.role in contract.PRIVILEGED_ROLES


@dataclass(frozen=True)
class Event:
    id: str
    owner_id: str
    name: str
    date: str
    place: str
    visibility: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Derivative:
    kind: str
    key: str
    width: int
    height: int
    bytes: int
    content_type: str


@dataclass(frozen=True)
class Photo:
    id: str
    event_id: str
    owner_id: str
    status: str
    original_key: str
    content_type: str
    declared_bytes: int
    created_at: dt.datetime
    updated_at: dt.datetime
    event_visibility: str
    derivatives: tuple[Derivative, ...] = ()
    width: int | None = None
    height: int | None = None
    original_bytes: int | None = None
    sha256: str | None = None
    captured_at: dt.datetime | None = None
    camera: str | None = None
    price_minor: int = 0
    currency: str = ""
    visibility: str = PUBLIC
    failure_reason: str | None = None
    face_count: int | None = None  # None until indexed for face search
    faces_indexed_at: dt.datetime | None = None
    original_etag: str | None = None
    original_version_id: str | None = None
    unlisted_at: dt.datetime | None = None
    # What the caller of this answer may have (see view_for): False until a rule grants more,
    # so a photo that reaches a caller without passing view_for carries only the free kinds.
    full_access: bool = False

    @property
    def unlisted(self) -> bool:
        return self.unlisted_at is not None


@dataclass(frozen=True)
class NewEvent:
    name: str
    date: str
    place: str
    visibility: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Processed:
    """What the upload pipeline learnt about a photo."""

    derivatives: tuple[Derivative, ...]
    width: int
    height: int
    original_bytes: int
    sha256: str
    captured_at: dt.datetime | None = None
    camera: str = ""
    original_etag: str = ""
    original_version_id: str = ""


@dataclass(frozen=True)
class PhotoChange:
    price_minor: int | None = None
    currency: str | None = None
    visibility: str | None = None


@dataclass(frozen=True)
class Page[T]:
    items: list[T] = field(default_factory=list)
    next_cursor: str = ""


# --- who may do what -------------------------------------------------------------

def check_caller(caller: Caller) -> None:
    if not caller.user_id or caller.role not in CALLER_ROLES:
        raise PermissionDenied("the request carries no valid caller")


def can_see_event(caller: Caller, event: Event) -> bool:
    return caller.privileged or caller.user_id == event.owner_id or event.visibility == PUBLIC


def can_see_photo(caller: Caller, photo: Photo, *, bought: bool = False) -> bool:
    """Buyers keep seeing what they bought (turned private, or deleted by its owner)."""
    if caller.privileged or bought:
        return True
    if photo.unlisted:
        return False  # deleted by its owner: gone for everyone but buyers
    if caller.user_id == photo.owner_id:
        return True
    return photo.status == READY and photo.visibility == PUBLIC and photo.event_visibility == PUBLIC


def may_have_everything(caller: Caller, photo: Photo, *, bought: bool) -> bool:
    """The clean sizes and the original: the owner, buyers, admins, internal services."""
    return caller.privileged or bought or caller.user_id == photo.owner_id


def is_free_kind(kind: str) -> bool:
    return kind.split("_", 1)[0] in FREE_SIZES


def view_for(caller: Caller, photo: Photo, *, bought: bool,
             grant: Callable[[Photo], Photo] | None = None,
             withhold: Callable[[Photo], Photo] | None = None) -> Photo:
    """The photo as this caller may have it: the one place the paywall is applied.
    ``grant`` and ``withhold`` may stand for :func:`granted` and :func:`withheld` (the same
    functions, remembered: sidecar/memo.py)."""
    if may_have_everything(caller, photo, bought=bought):
        return granted(photo) if grant is None else grant(photo)
    return withheld(photo) if withhold is None else withhold(photo)


def granted(photo: Photo) -> Photo:
    """Every size and the original's details: for a caller ``may_have_everything`` admits."""
    return replace(photo, full_access=True)


def withheld(photo: Photo) -> Photo:
    """Only the free derivatives, no trace of the original's location or identity."""
    return replace(photo, full_access=False, original_key="", original_etag=None, original_version_id=None,
                   sha256=None, derivatives=tuple(x for x in photo.derivatives if is_free_kind(x.kind)))


def needs_purchase_check(caller: Caller, photo: Photo) -> bool:
    """Whether the answer depends on the caller having bought the photo."""
    return not (caller.privileged or caller.user_id == photo.owner_id)


def sees_all_photos_of(caller: Caller, event: Event) -> bool:
    return caller.privileged or caller.user_id == event.owner_id


def require_owner(caller: Caller, owner_id: str, what: str) -> None:
    if caller.user_id != owner_id:
        raise PermissionDenied(f"only the owner may change this {what}")


def require_pipeline(caller: Caller) -> None:
    if not caller.privileged:
        raise PermissionDenied("only the upload pipeline registers processing results")


def pipeline_photo_id(caller: Caller, photo_id: str) -> str:
    """The id of a photo the pipeline (upload, faces) records a result for: a valid caller that
    is the pipeline, and an id that can exist."""
    check_caller(caller)
    require_pipeline(caller)
    return parse_uuid(photo_id, "photo")


def require_indexable(photo: Photo) -> None:
    """Faces and bib numbers are read from the derivatives: only a ready photo has them."""
    if photo.status != READY:
        raise FailedPrecondition(f"the photo is {photo.status}; only ready photos are indexed")


# --- validation --------------------------------------------------------------------

def parse_uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError) as exc:
        # An id that cannot exist is simply not found, like any other unknown id.
        raise NotFound(f"{what} not found") from exc


def validate_new_event(caller: Caller, new: NewEvent) -> NewEvent:
    if caller.role not in EVENT_CREATORS:
        raise PermissionDenied("only photographers create events")
    name = new.name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidArgument("name must be 1 to 200 characters")
    try:
        date = dt.date.fromisoformat(new.date).isoformat()
    except ValueError as exc:
        raise InvalidArgument("date must be YYYY-MM-DD") from exc
    place = new.place.strip()
    if len(place) > 200:
        raise InvalidArgument("place must be at most 200 characters")
    if new.visibility not in VISIBILITIES:
        raise InvalidArgument("visibility must be public or private")
    key = (new.idempotency_key or "").strip() or None
    if key is not None and len(key) > 200:
        raise InvalidArgument("idempotency key must be at most 200 characters")
    return NewEvent(name=name, date=date, place=place, visibility=new.visibility, idempotency_key=key)


def validate_reservation(content_type: str, declared_bytes: int) -> None:
    if content_type not in CONTENT_TYPES:
        raise InvalidArgument("content type must be one of " + ", ".join(CONTENT_TYPES))
    if not 0 < declared_bytes <= MAX_UPLOAD_BYTES:
        raise InvalidArgument(f"size must be between 1 and {MAX_UPLOAD_BYTES} bytes")


def validate_processed(p: Processed) -> None:
    if not p.derivatives:
        raise InvalidArgument("at least one derivative is required")
    kinds = [d.kind for d in p.derivatives]
    if len(set(kinds)) != len(kinds):
        raise InvalidArgument("derivative kinds must be unique")
    for d in p.derivatives:
        if not _KIND.match(d.kind) or not d.key or len(d.key) > 1024:
            raise InvalidArgument("each derivative needs a kind and a key")
        if d.width <= 0 or d.height <= 0 or d.bytes <= 0 or not d.content_type:
            raise InvalidArgument("each derivative needs a width, a height, a size and a content type")
    if p.width <= 0 or p.height <= 0 or p.original_bytes <= 0:
        raise InvalidArgument("width, height and original size must be positive")
    if not _SHA256.match(p.sha256):
        raise InvalidArgument("sha256 must be 64 lower-case hex digits")
    if len(p.camera) > 200:
        raise InvalidArgument("camera must be at most 200 characters")
    if len(p.original_etag) > 200 or len(p.original_version_id) > 1024:
        raise InvalidArgument("original_etag / original_version_id are too long")


def require_replaceable(photo: Photo) -> None:
    """A new upload URL for the original only while nothing was made of it yet."""
    if photo.status != PENDING or photo.unlisted:
        state = "deleted" if photo.unlisted else photo.status
        raise FailedPrecondition(f"the photo is {state}; its original can no longer be uploaded or replaced")


def same_processing(photo: Photo, p: Processed) -> bool:
    return photo.sha256 == p.sha256 and {d.kind: d.key for d in photo.derivatives} == {
        d.kind: d.key for d in p.derivatives
    }


def validate_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidArgument("a failure reason is required")
    return reason[:MAX_REASON_CHARS]


def apply_change(photo: Photo, change: PhotoChange) -> tuple[int, str, str]:
    """The photo's (price_minor, currency, visibility) after the change, validated."""
    price = photo.price_minor if change.price_minor is None else change.price_minor
    currency = photo.currency if change.currency is None else change.currency.strip().upper()
    visibility = photo.visibility if change.visibility is None else change.visibility
    if not 0 <= price <= MAX_PRICE_MINOR:
        raise InvalidArgument(f"price must be between 0 and {MAX_PRICE_MINOR} minor units")
    if currency and not _CURRENCY.match(currency):
        raise InvalidArgument("currency must be a three-letter ISO 4217 code")
    if price > 0 and not currency:
        raise InvalidArgument("a price needs a currency")
    if visibility not in VISIBILITIES:
        raise InvalidArgument("visibility must be public or private")
    return price, currency, visibility


def page_size(limit: int, *, default: int = DEFAULT_PAGE, most: int = MAX_PAGE) -> int:
    """A list request's limit: 0 (proto3's unset) is ``default``, else 1..``most``."""
    if limit == 0:
        return default
    if not 1 <= limit <= most:
        raise InvalidArgument(f"limit must be between 1 and {most}")
    return limit


# --- cursors: opaque to clients, a (created_at, id) keyset position to us ------------

def encode_cursor(created_at: dt.datetime, item_id: str) -> str:
    return contract.encode_cursor(json.dumps([created_at.isoformat(), item_id]))


def decode_cursor(cursor: str) -> tuple[dt.datetime, str] | None:
    if not cursor:
        return None
    try:
        created, item_id = json.loads(contract.decode_cursor(cursor))
        position = dt.datetime.fromisoformat(created), str(uuid.UUID(item_id))
    except (ValueError, TypeError) as exc:  # contract.InvalidCursor and JSONDecodeError among them
        raise InvalidArgument("invalid cursor") from exc
    if position[0].tzinfo is None:
        raise InvalidArgument("invalid cursor")
    return position
