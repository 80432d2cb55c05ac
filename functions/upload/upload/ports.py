"""What the upload use case needs from the outside world, as small protocols.

The real adapters are S3 (``storage.S3ObjectStore``), Redis (``claims.RedisWorkClaims``)
and the photo sidecar over gRPC (``registry.GrpcPhotoRegistry``); tests pass in-memory ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from photostack import contract

# --- S3 -------------------------------------------------------------------------------


class ObjectMissing(Exception):
    """The object is gone (deleted after its event was sent)."""


class ObjectChanged(Exception):
    """The object was overwritten between HEAD and GET; its own event will follow."""


class ObjectTooLarge(Exception):
    """More bytes arrived than the cap allows."""


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-* without the prefix
    version_id: str = ""  # "" when the bucket is not versioned


class ObjectStore(Protocol):
    def head(self, bucket: str, key: str) -> ObjectHead: ...

    def get(self, bucket: str, key: str, *, etag: str, max_bytes: int, version_id: str = "") -> bytes:
        """The object's bytes if its ETag still matches (that version, when given); ObjectTooLarge
        past max_bytes."""
        ...

    def put(self, bucket: str, key: str, body: bytes, *, content_type: str) -> None: ...


# --- the photo sidecar ----------------------------------------------------------------


@dataclass(frozen=True)
class StoredDerivative:
    size: str  # "web" | "preview" | "thumb"
    format: str  # "jpg" | "webp"
    bucket: str
    key: str
    content_type: str
    width: int
    height: int
    bytes: int


@dataclass(frozen=True)
class OriginalInfo:
    format: str  # "JPEG" | "PNG" | "WEBP" | "GIF"
    width: int  # as displayed, after EXIF orientation
    height: int
    bytes: int
    sha256: str  # hex
    # The exact object the bytes were read from (the hash is of that object): a download grant
    # compares these with what is stored before presigning the original.
    etag: str
    version_id: str
    captured_at: str | None  # ISO 8601 without zone, from EXIF
    camera_make: str | None
    camera_model: str | None


class PhotoStatus(StrEnum):
    PENDING = contract.PENDING
    READY = contract.READY
    FAILED = contract.FAILED


@dataclass(frozen=True)
class IdleReservation:
    """A pending photo nobody uploaded to for a while, and where its original would be."""

    photo_id: str
    original_key: str


class RegistryRefused(Exception):
    """The photo service refused the call for good (unknown photo, wrong state, invalid data)."""


class PhotoRegistry(Protocol):
    def get_status(self, photo_id: str) -> PhotoStatus | None:
        """The photo's status, or None when the sidecar does not know the photo."""
        ...

    def register_derivatives(
        self, photo_id: str, *, original: OriginalInfo, derivatives: Sequence[StoredDerivative]
    ) -> None:
        """Record every derivative and the original's metadata at once; the photo becomes ready.

        RegistryRefused when the service will never accept it; anything else is transient.
        """
        ...

    def mark_failed(self, photo_id: str, reason: str) -> None:
        """RegistryRefused when the photo can no longer fail (unknown, or ready)."""
        ...


# --- what happens next -----------------------------------------------------------------


@dataclass(frozen=True)
class PhotoReady:
    photo_id: str
    event_id: str
    web_key: str  # the web-size derivative in the derivatives bucket


class PhotoReadyNotifier(Protocol):
    def photo_ready(self, ready: PhotoReady) -> None:
        """Tell whoever works on ready photos (face indexing); may raise, the caller logs it."""
        ...


# --- exactly-once in effect -----------------------------------------------------------


class ClaimState(StrEnum):
    ACQUIRED = "acquired"
    DONE = "done"  # an earlier delivery finished this work
    BUSY = "busy"  # another delivery holds the lock right now


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    token: str = ""
    # How many deliveries took the lock and neither finished nor released it, this one included;
    # above 1 means an earlier one died mid-way (out of time or memory).
    attempt: int = 0
    outcome: str = ""  # for DONE: what the earlier delivery recorded


class WorkClaims(Protocol):
    def claim(self, work_key: str) -> Claim: ...

    def finish(self, work_key: str, token: str, outcome: str) -> None: ...

    def release(self, work_key: str, token: str) -> None:
        """Give the lock back after a transient error so a retry can do the work."""
        ...
