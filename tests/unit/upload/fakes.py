"""In-memory adapters for the upload pipeline's ports (the real ones are tested in integration/)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from upload.ports import (
    Claim,
    ClaimState,
    ObjectChanged,
    ObjectHead,
    ObjectMissing,
    ObjectTooLarge,
    OriginalInfo,
    PhotoStatus,
    RegistryRefused,
    StoredDerivative,
)


@dataclass
class StoredObject:
    body: bytes
    content_type: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return hashlib.md5(self.body).hexdigest()


class MemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.puts = 0
        self.fail_puts_after: int | None = None  # simulate S3 going away mid-way

    def add(self, bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None) -> str:
        self.objects[(bucket, key)] = StoredObject(body, "application/octet-stream", dict(metadata or {}))
        return self.objects[(bucket, key)].etag

    def head(self, bucket: str, key: str) -> ObjectHead:
        obj = self.objects.get((bucket, key))
        if obj is None:
            raise ObjectMissing(key)
        return ObjectHead(len(obj.body), obj.etag, obj.content_type, obj.metadata)

    def get(self, bucket: str, key: str, *, etag: str, max_bytes: int, version_id: str = "") -> bytes:
        obj = self.objects.get((bucket, key))
        if obj is None:
            raise ObjectMissing(key)
        if obj.etag != etag:
            raise ObjectChanged(key)
        if len(obj.body) > max_bytes:
            raise ObjectTooLarge(key)
        return obj.body

    def put(self, bucket: str, key: str, body: bytes, *, content_type: str) -> None:
        if self.fail_puts_after is not None and self.puts >= self.fail_puts_after:
            raise ConnectionError("S3 went away")
        self.puts += 1
        self.objects[(bucket, key)] = StoredObject(body, content_type)

    def keys(self, bucket: str) -> list[str]:
        return sorted(key for b, key in self.objects if b == bucket)


@dataclass
class PhotoRecord:
    status: PhotoStatus = PhotoStatus.PENDING
    reason: str = ""
    original: OriginalInfo | None = None
    derivatives: tuple[StoredDerivative, ...] = ()


class MemoryPhotoRegistry:
    """Follows the sidecar's rules: ready and failed are final, registering twice the same is fine."""

    def __init__(self) -> None:
        self.photos: dict[str, PhotoRecord] = {}
        self.registrations = 0
        self.refuse_registration = False

    def reserve(self, photo_id: str) -> None:
        self.photos[photo_id] = PhotoRecord()

    def get_status(self, photo_id: str) -> PhotoStatus | None:
        record = self.photos.get(photo_id)
        return record.status if record else None

    def register_derivatives(
        self, photo_id: str, *, original: OriginalInfo, derivatives: Sequence[StoredDerivative]
    ) -> None:
        record = self.photos.get(photo_id)
        if record is None or record.status is PhotoStatus.FAILED or self.refuse_registration:
            raise RegistryRefused("photo not found or failed")
        if record.status is PhotoStatus.READY and record.original is not None and (
                record.original.sha256 != original.sha256
                or {d.key for d in record.derivatives} != {d.key for d in derivatives}):
            raise RegistryRefused("the photo is already registered with other derivatives")
        self.registrations += 1
        record.status, record.original, record.derivatives = PhotoStatus.READY, original, tuple(derivatives)

    def mark_failed(self, photo_id: str, reason: str) -> None:
        record = self.photos.get(photo_id)
        if record is None or record.status is PhotoStatus.READY:
            raise RegistryRefused("photo not found or ready")
        record.status, record.reason = PhotoStatus.FAILED, reason


class MemoryWorkClaims:
    """The Redis work claims' rules without Redis; `expire_locks` plays a lock TTL running out."""

    def __init__(self) -> None:
        self.locks: dict[str, str] = {}
        self.opened: dict[str, int] = {}
        self.done: dict[str, str] = {}
        self._tokens = itertools.count(1)

    def claim(self, work_key: str) -> Claim:
        if work_key in self.done:
            return Claim(ClaimState.DONE, outcome=self.done[work_key])
        if work_key in self.locks:
            return Claim(ClaimState.BUSY)
        token = str(next(self._tokens))
        self.locks[work_key] = token
        self.opened[work_key] = self.opened.get(work_key, 0) + 1
        return Claim(ClaimState.ACQUIRED, token=token, attempt=self.opened[work_key])

    def finish(self, work_key: str, token: str, outcome: str) -> None:
        self.done[work_key] = outcome
        if self.locks.get(work_key) == token:
            del self.locks[work_key]
        self.opened.pop(work_key, None)

    def release(self, work_key: str, token: str) -> None:
        if self.locks.get(work_key) == token:
            del self.locks[work_key]
            self.opened[work_key] -= 1

    def expire_locks(self) -> None:
        self.locks.clear()
