"""S3 object bytes in files that outlive LocalStack: a drop-in for its ``EphemeralS3ObjectStore``.

LocalStack's community S3 keeps each object's bytes in a ``SpooledTemporaryFile`` (memory up to
512 KB, an unlinked temporary file above), so they die with the process. This store keeps the same
interface (``localstack.services.s3.storage.core.S3ObjectStore``) and reuses the ephemeral
store's stream logic (etag, checksums, ranges, locking), but backs every object version with a
file named after a hash of ``key?version``:

    <root>/<bucket>/objects/<sha256>             one file per object version
    <root>/<bucket>/multiparts/<sha256(upload id)>/<part number>

A write goes to a fresh temporary file that replaces the object's file when the stream is
closed (``os.replace``; ``fsync`` first unless turned off), so an overwrite cut off by
``kill -9`` leaves the previous bytes, never half of each; readers keep the inode they opened.
Nothing is read at start-up: a file is opened when its object is, so restoring costs nothing here
(the metadata comes back from the journal, see ``durable_state``), and no descriptor stays open
once a request is done with an object.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Literal

from localstack.aws.api.s3 import BucketName
from localstack.services.s3.models import S3Multipart, S3Object, S3Part
from localstack.services.s3.storage.ephemeral import (
    EphemeralS3ObjectStore,
    EphemeralS3StoredMultipart,
    EphemeralS3StoredObject,
    LockedFileMixin,
)

from photostack_localstack_executor.durable_journal import fsync_dir


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class DurableEntry(LockedFileMixin):
    """What the ephemeral store keeps per object (its locks), plus where its bytes live."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.removed = False


class _OpenedFile:
    """One open of an entry: the file interface ``EphemeralS3StoredObject`` drives, own descriptor.

    A writer gets a new temporary file that replaces ``entry.path`` on close; a reader opens
    ``entry.path`` (an object that never had bytes reads as empty).
    """

    def __init__(self, entry: DurableEntry, mode: Literal["r", "w"], fsync: bool) -> None:
        self.entry = entry
        self.position_lock = entry.position_lock
        self.readwrite_lock = entry.readwrite_lock
        self.fsync = fsync
        self.tmp: Path | None = None
        entry.path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "w":
            self.tmp = entry.path.with_name(f"{entry.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            self.raw: io.BufferedRandom | io.BytesIO = open(self.tmp, "w+b")  # noqa: SIM115 (closed in close())
        elif entry.path.exists():
            self.raw = open(entry.path, "r+b")  # noqa: SIM115
        else:
            self.raw = io.BytesIO()

    @property
    def internal_last_modified(self) -> int:
        return self.entry.internal_last_modified

    @internal_last_modified.setter
    def internal_last_modified(self, value: int) -> None:
        self.entry.internal_last_modified = value

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        return self.raw.read(size)

    def write(self, data: bytes) -> int:
        return self.raw.write(data)

    def truncate(self, size: int | None = None) -> int:
        return self.raw.truncate(size)

    def tell(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        if self.tmp is None:
            self.raw.close()
            return
        self.raw.flush()
        if self.fsync:
            os.fsync(self.raw.fileno())
        self.raw.close()
        if self.entry.removed:
            self.tmp.unlink(missing_ok=True)  # deleted while it was being written
            return
        os.replace(self.tmp, self.entry.path)
        if self.fsync:
            fsync_dir(self.entry.path.parent)


class DurableS3StoredObject(EphemeralS3StoredObject):
    def __init__(self, s3_object: S3Object | S3Part, entry: DurableEntry, mode: Literal["r", "w"],
                 fsync: bool) -> None:
        super().__init__(s3_object, _OpenedFile(entry, mode, fsync), mode=mode)  # type: ignore[arg-type]
        if mode == "r":
            self.size = self.file.seek(0, os.SEEK_END)  # type: ignore[assignment]
            self.file.seek(0)

    def close(self) -> None:
        try:
            self.file.close()
        finally:
            super().close()  # releases the read/write lock


class DurableS3StoredMultipart(EphemeralS3StoredMultipart):
    _s3_store: DurableS3ObjectStore

    def __init__(self, s3_store: DurableS3ObjectStore, bucket: BucketName, s3_multipart: S3Multipart,
                 upload_dir: str) -> None:
        super().__init__(s3_store, bucket, s3_multipart, upload_dir)
        self.parts: dict[int, DurableEntry] = {}  # type: ignore[assignment]

    def open(self, s3_part: S3Part, mode: Literal["r", "w"] = "r") -> DurableS3StoredObject:  # type: ignore[override]
        if not (entry := self.parts.get(s3_part.part_number)):
            entry = DurableEntry(Path(self.upload_dir) / str(s3_part.part_number))
            self.parts[s3_part.part_number] = entry
        return DurableS3StoredObject(s3_part, entry, mode, self._s3_store.fsync)

    def remove_part(self, s3_part: S3Part) -> None:
        entry = self.parts.pop(s3_part.part_number, None) or DurableEntry(
            Path(self.upload_dir) / str(s3_part.part_number))
        entry.removed = True
        entry.path.unlink(missing_ok=True)

    def close(self) -> None:
        self.parts.clear()  # the files stay until the upload is completed or aborted


class DurableS3ObjectStore(EphemeralS3ObjectStore):
    def __init__(self, root_directory: str, *, fsync: bool) -> None:
        super().__init__(root_directory)
        self.fsync = fsync
        Path(root_directory).mkdir(parents=True, exist_ok=True)

    # ---- paths -------------------------------------------------------------------------

    def object_path(self, bucket: BucketName, s3_object: S3Object) -> Path:
        return Path(self.root_directory, bucket, "objects", self._key_from_s3_object(s3_object))

    @staticmethod
    def _key_from_s3_object(s3_object: S3Object) -> str:
        # The ephemeral store uses hash(), which changes with every process (PYTHONHASHSEED).
        return _digest(f"{s3_object.key}?{s3_object.version_id or 'null'}")

    def _upload_dir(self, bucket: BucketName, upload_id: str) -> str:
        return os.path.join(self.root_directory, bucket, "multiparts", _digest(upload_id))

    # ---- S3ObjectStore ---------------------------------------------------------------------

    def open(self, bucket: BucketName, s3_object: S3Object,  # type: ignore[override]
             mode: Literal["r", "w"] = "r") -> DurableS3StoredObject:
        key = self._key_from_s3_object(s3_object)
        keys: dict[str, Any] = self._filesystem[bucket]["keys"]
        if not (entry := keys.get(key)):
            entry = keys.setdefault(key, DurableEntry(self.object_path(bucket, s3_object)))
        return DurableS3StoredObject(s3_object, entry, mode, self.fsync)

    def remove(self, bucket: BucketName, s3_object: S3Object | list[S3Object]) -> None:
        objects = s3_object if isinstance(s3_object, list) else [s3_object]
        keys: dict[str, Any] = self._filesystem[bucket]["keys"]
        for obj in objects:
            entry = keys.pop(self._key_from_s3_object(obj), None)
            if entry is not None:
                entry.removed = True
            self.object_path(bucket, obj).unlink(missing_ok=True)

    def get_multipart(self, bucket: BucketName, s3_multipart: S3Multipart) -> DurableS3StoredMultipart:  # type: ignore[override]
        with self._lock_multipart_create:
            multiparts: dict[str, Any] = self._filesystem[bucket]["multiparts"]
            if not (multipart := multiparts.get(s3_multipart.id)):
                upload_dir = self._upload_dir(bucket, s3_multipart.id)
                os.makedirs(upload_dir, exist_ok=True)
                multipart = DurableS3StoredMultipart(self, bucket, s3_multipart, upload_dir)
                multiparts[s3_multipart.id] = multipart
        return multipart  # type: ignore[no-any-return]

    def remove_multipart(self, bucket: BucketName, s3_multipart: S3Multipart) -> None:
        self._filesystem[bucket]["multiparts"].pop(s3_multipart.id, None)
        shutil.rmtree(self._upload_dir(bucket, s3_multipart.id), ignore_errors=True)

    def create_bucket(self, bucket: BucketName) -> None:
        Path(self.root_directory, bucket, "objects").mkdir(parents=True, exist_ok=True)

    def delete_bucket(self, bucket: BucketName) -> None:
        self._filesystem.pop(bucket, None)
        shutil.rmtree(os.path.join(self.root_directory, bucket), ignore_errors=True)

    def collect_garbage(self, live: dict[str, tuple[set[str], set[str]]]) -> int:
        """At start, before any request: delete the files no restored object or upload refers to.

        ``live`` maps each restored bucket to (``_key_from_s3_object`` of every version, upload
        ids). What goes: buckets not kept (LocalStack's own, or deleted), temporary files of writes
        cut off by a kill, bytes of an object whose metadata never reached the journal (its request
        was never answered). Returns the number of files and folders removed.
        """
        removed = 0
        for bucket_dir in Path(self.root_directory).iterdir():
            if bucket_dir.name not in live:
                shutil.rmtree(bucket_dir, ignore_errors=True)
                removed += 1
                continue
            objects, uploads = live[bucket_dir.name]
            uploads_dirs = {_digest(upload_id) for upload_id in uploads}
            for path in (bucket_dir / "objects").glob("*"):
                if path.name not in objects:
                    path.unlink(missing_ok=True)
                    removed += 1
            for path in (bucket_dir / "multiparts").glob("*"):
                if path.name not in uploads_dirs:
                    shutil.rmtree(path, ignore_errors=True)
                    removed += 1
        return removed

    def close(self) -> None:
        # The ephemeral store deletes every object here (LocalStack calls it on shutdown).
        for bucket in self._filesystem.values():
            bucket["keys"].clear()
            bucket["multiparts"].clear()

    def reset(self) -> None:
        self.close()
