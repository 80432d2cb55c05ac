"""Parallel, resumable uploads of photo files through the photos API's presigned S3 URLs.

For each file: hash it; skip it when the journal says its bytes are already in S3;
otherwise reserve a photo with ``POST /uploads`` (the Idempotency-Key is derived from
the event and the content hash, so even without a journal the same file maps to the
same photo instead of a duplicate), then send the bytes with one presigned PUT or,
above the API's multipart threshold, part by part and ``POST /uploads/{id}/complete``.
A multipart upload whose part URLs are still valid resumes with the parts S3 has not
acknowledged; one whose URLs expired is started again under the same photo.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from photostack_cli.client import ApiError, Client
from photostack_cli.journal import RESERVED, UPLOADED, Journal

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# Part URLs this close to expiry are not trusted for a resume: a part may take a while.
URL_EXPIRY_MARGIN_S = 60
TRANSFER_ATTEMPTS = 3


class Stopped(Exception):
    """The upload was asked to stop (Ctrl-C); the journal holds what was done."""


def sniff_content_type(path: Path, head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    guessed = mimetypes.guess_type(path.name)[0]
    return guessed if guessed in ("image/jpeg", "image/png", "image/webp") else None


def collect_files(inputs: Iterable[Path]) -> list[Path]:
    """The image files named, and those inside the folders named (recursively), in a stable order."""
    found: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found.extend(sorted(p for p in item.rglob("*")
                                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                                and not p.name.startswith(".")))
        elif item.is_file():
            found.append(item)
        else:
            raise FileNotFoundError(f"{item}: no such file or folder")
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    return list(unique.values())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class ProgressSink(Protocol):
    def start(self, name: str, total: int) -> Any: ...
    def advance(self, handle: Any, nbytes: int) -> None: ...
    def finish(self, handle: Any, result: FileResult) -> None: ...


class NoProgress:
    def start(self, name: str, total: int) -> Any:
        return None

    def advance(self, handle: Any, nbytes: int) -> None:
        pass

    def finish(self, handle: Any, result: FileResult) -> None:
        pass


@dataclass
class FileResult:
    path: str
    size_bytes: int = 0
    sha256: str | None = None
    photo_id: str | None = None
    # uploaded | resumed | skipped | duplicate | failed
    outcome: str = "failed"
    parts_sent: int = 0
    bytes_sent: int = 0
    error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class _SliceReader:
    """A window of a file as a body for requests, reporting bytes as they are read."""

    def __init__(self, f: BinaryIO, offset: int, length: int, on_read: Callable[[int], None],
                 stop: threading.Event) -> None:
        self._f = f
        self._length = length
        self._pos = 0
        self._on_read = on_read
        self._stop = stop
        f.seek(offset)

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        if self._stop.is_set():
            raise Stopped()
        remaining = self._length - self._pos
        if remaining <= 0:
            return b""
        size = remaining if size is None or size < 0 else min(size, remaining)
        data = self._f.read(size)
        self._pos += len(data)
        self._on_read(len(data))
        return data


@dataclass
class Uploader:
    client: Client
    event_id: str
    journal: Journal
    workers: int = 4
    progress: ProgressSink = field(default_factory=NoProgress)
    # Called after each multipart part is acknowledged and journaled (tests interrupt here).
    on_part: Callable[[Path, int], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    _claimed: dict[str, str] = field(default_factory=dict)
    _claim_lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, files: list[Path]) -> list[FileResult]:
        """Upload ``files``; per-file API errors are results, anything else stops the batch."""
        results: list[FileResult | None] = [None] * len(files)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="upload") as pool:
            futures: dict[Future[FileResult], int] = {
                pool.submit(self.upload_one, path): i for i, path in enumerate(files)
            }
            try:
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                for future in done:
                    if future.exception() is not None:
                        raise future.exception()  # type: ignore[misc]
            except BaseException:
                self.stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            for future, i in futures.items():
                results[i] = future.result()
        return [r for r in results if r is not None]

    def upload_one(self, path: Path) -> FileResult:
        if self.stop.is_set():
            raise Stopped()
        result = FileResult(path=str(path))
        try:
            result.size_bytes = path.stat().st_size
            with path.open("rb") as f:
                head = f.read(16)
            content_type = sniff_content_type(path, head)
            if content_type is None:
                raise ApiError(0, "unsupported_file", "not a JPEG, PNG or WebP image")
            if result.size_bytes == 0:
                raise ApiError(0, "empty_file", "the file is empty")
            result.sha256 = sha = sha256_of(path)
            with self._claim_lock:
                first = self._claimed.setdefault(sha, str(path))
            if first != str(path):
                result.outcome = "duplicate"
                result.error = {"code": "duplicate", "message": f"same content as {first}"}
                self.progress.finish(None, result)
                return result
        except ApiError as exc:
            result.error = {"status": exc.status, "code": exc.code, "message": exc.message}
            self.progress.finish(None, result)
            return result
        except OSError as exc:
            result.error = {"code": "unreadable_file", "message": str(exc)}
            self.progress.finish(None, result)
            return result
        self._send(path, sha, content_type, result)
        return result

    # ---- one file -------------------------------------------------------------------

    def _reserve(self, sha: str, path: Path, content_type: str, size: int) -> dict[str, Any]:
        answer = self.client.post(
            "photos", "/uploads",
            {"event_id": self.event_id, "content_type": content_type, "size_bytes": size,
             "filename": path.name[:200]},
            headers={"Idempotency-Key": f"cli:{self.event_id}:{sha}"},
        )
        target = answer["upload"]
        entry: dict[str, Any] = {
            "path": str(path), "size_bytes": size, "content_type": content_type,
            "photo_id": answer["photo_id"], "state": RESERVED, "method": target["method"],
            "expires_at": time.time() + float(target.get("expires_in", 0)),
        }
        if target["method"] == "MULTIPART":
            entry.update(upload_id=target["upload_id"], parts=target["parts"], done={})
        else:
            entry.update(url=target["url"], headers=target.get("headers") or {})
        self.journal.put(sha, entry)
        return entry

    def _send(self, path: Path, sha: str, content_type: str, result: FileResult) -> None:
        size = result.size_bytes
        entry = self.journal.get(sha)
        if entry is not None and entry.get("state") == UPLOADED and entry.get("size_bytes") == size:
            result.photo_id = entry["photo_id"]
            result.outcome = "skipped"
            self.progress.finish(None, result)
            return
        handle = self.progress.start(path.name, size)
        try:
            resumable = (entry is not None and entry.get("method") == "MULTIPART"
                         and entry.get("size_bytes") == size
                         and float(entry.get("expires_at", 0)) - URL_EXPIRY_MARGIN_S > time.time())
            if not resumable or entry is None:
                entry = self._reserve(sha, path, content_type, size)
            outcome = "resumed" if entry.get("done") else "uploaded"
            result.photo_id = entry["photo_id"]
            if entry["method"] == "MULTIPART":
                self._send_parts(path, sha, entry, result, handle)
            else:
                self._put(path, entry, result, handle)
            entry = self.journal.get(sha) or entry
            # The presigned URLs are spent; the journal keeps what identifies the photo.
            kept = {k: v for k, v in entry.items() if k not in ("url", "headers", "parts", "done")}
            self.journal.put(sha, dict(kept, state=UPLOADED, parts_count=len(entry.get("parts") or [1])))
            result.outcome = outcome
        except ApiError as exc:
            result.error = {"status": exc.status, "code": exc.code, "message": exc.message}
            result.outcome = "failed"
        finally:
            self.progress.finish(handle, result)

    def _transfer(self, url: str, path: Path, offset: int, length: int, headers: dict[str, str],
                  result: FileResult, handle: Any) -> str:
        """PUT one byte range; the ETag S3 returns. Retries a failed attempt from the start."""
        for attempt in range(1, TRANSFER_ATTEMPTS + 1):
            sent = 0

            def on_read(n: int) -> None:
                nonlocal sent
                sent += n
                self.progress.advance(handle, n)

            with path.open("rb") as f:
                body = _SliceReader(f, offset, length, on_read, self.stop)
                try:
                    response = self.client.transfer("PUT", url, data=body, headers=headers)
                    result.bytes_sent += length
                    return response.headers.get("ETag", "")
                except ApiError as exc:
                    self.progress.advance(handle, -sent)
                    retryable = exc.status == 0 or exc.status >= 500
                    if not retryable or attempt == TRANSFER_ATTEMPTS:
                        raise
                    time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _put(self, path: Path, entry: dict[str, Any], result: FileResult, handle: Any) -> None:
        self._transfer(entry["url"], path, 0, result.size_bytes, dict(entry.get("headers") or {}),
                       result, handle)
        result.parts_sent = 1

    def _send_parts(self, path: Path, sha: str, entry: dict[str, Any], result: FileResult,
                    handle: Any) -> None:
        done: dict[str, str] = dict(entry.get("done") or {})
        offset = 0
        for part in entry["parts"]:
            number, length = int(part["part_number"]), int(part["size_bytes"])
            if str(number) in done:
                self.progress.advance(handle, length)
            else:
                if self.stop.is_set():
                    raise Stopped()
                etag = self._transfer(part["url"], path, offset, length, {}, result, handle)
                if not etag:
                    raise ApiError(0, "storage_error", f"storage gave no ETag for part {number}")
                self.journal.part_done(sha, number, etag)
                done[str(number)] = etag
                result.parts_sent += 1
                if self.on_part is not None:
                    self.on_part(path, number)
            offset += length
        parts = [{"part_number": int(n), "etag": done[n]} for n in sorted(done, key=int)]
        try:
            self.client.post("photos", f"/uploads/{entry['photo_id']}/complete",
                             {"upload_id": entry["upload_id"], "parts": parts})
        except ApiError as exc:
            if exc.code == "upload_complete":
                return  # completed by an earlier run that died before journaling it
            if exc.code == "invalid_upload":
                # S3 no longer knows this upload (expired, aborted): start over next time.
                entry["expires_at"] = 0
                self.journal.put(sha, entry)
            raise


# ---- waiting for processing ---------------------------------------------------------


def processing_status(client: Client, event_id: str, photo_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The current status of ``photo_ids`` (listed through the event's photo pages)."""
    found: dict[str, dict[str, Any]] = {}
    for photo in client.paged("photos", f"/events/{event_id}/photos", "photos"):
        if photo["id"] in photo_ids:
            found[photo["id"]] = photo
    return found


def wait_for_processing(client: Client, event_id: str, photo_ids: set[str], *, timeout_s: float,
                        poll_s: float = 1.0,
                        on_update: Callable[[dict[str, int]], None] | None = None
                        ) -> dict[str, dict[str, Any]]:
    """Poll until every photo is ready or failed, or the timeout passes; the last statuses seen."""
    deadline = time.monotonic() + timeout_s
    photos: dict[str, dict[str, Any]] = {}
    while True:
        try:
            photos = processing_status(client, event_id, photo_ids)
        except ApiError as exc:
            # The uploads already succeeded: a service that is briefly away (a sidecar restart,
            # a cold start) is waited out within the deadline instead of failing the command.
            if not transient(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(poll_s)
            continue
        counts = summarize(photos, photo_ids)
        if on_update is not None:
            on_update(counts)
        if counts["pending"] == 0 or time.monotonic() >= deadline:
            return photos
        time.sleep(poll_s)


def transient(exc: ApiError) -> bool:
    """A failure worth waiting out: no answer at all, or the service said it is unavailable."""
    return exc.code == "unreachable" or exc.status in (502, 503, 504)


def summarize(photos: dict[str, dict[str, Any]], photo_ids: set[str]) -> dict[str, int]:
    counts = {"ready": 0, "failed": 0, "pending": 0}
    for pid in photo_ids:
        status = photos.get(pid, {}).get("status", "pending")
        counts[status if status in counts else "pending"] += 1
    return counts
