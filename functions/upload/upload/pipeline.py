"""The use case: one uploaded original becomes a ready photo with derivatives, or a failed one.

Delivery is at least once, so the work is keyed on bucket, key and ETag in the work
claims (a Redis lock plus a "done" marker): duplicates and retries of finished work are skipped,
a delivery that finds the work in progress raises so that Lambda retries it later, and a
delivery that finds an earlier attempt died mid-way (out of time or memory) marks the
photo failed instead of trying a poison image again. The original is never deleted.

Order of effects: derivatives are written first, then registered in one call, so a photo
is either ready with all its derivatives or not registered at all; an interrupted run
leaves only objects that the retry overwrites.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from photostack import contract
from photostack.contract import MAX_UPLOAD_BYTES
from photostack.jsonlog import get_logger

from upload import watermark
from upload.decode import DecodeLimits
from upload.derivatives import EncodeSettings, Rendered, render
from upload.errors import ImageRejected, WorkInProgressError
from upload.ports import (
    ClaimState,
    ObjectChanged,
    ObjectHead,
    ObjectMissing,
    ObjectStore,
    ObjectTooLarge,
    OriginalInfo,
    PhotoReady,
    PhotoReadyNotifier,
    PhotoRegistry,
    PhotoStatus,
    RegistryRefused,
    StoredDerivative,
    WorkClaims,
)

log = get_logger("upload.pipeline")

WATERMARK_METADATA = "watermark"  # x-amz-meta-watermark
# Earlier attempts that took the lock and never finished nor released it. One is tolerated:
# besides a kill (timeout, out of memory) it can be a transient failure whose release did
# not reach Redis, and a healthy photo must not be failed for that. A second means the image
# itself keeps killing the function: it ends failed within Lambda's three async attempts.
DIED_ATTEMPTS_TOLERATED = 1


@dataclass(frozen=True)
class PhotoKey:
    event_id: str
    photo_id: str

    def derivative_key(self, size: str, fmt: str) -> str:
        return contract.derivative_key(self.event_id, self.photo_id, size, fmt)


def parse_key(key: str) -> PhotoKey | None:
    match = contract.ORIGINAL_KEY.fullmatch(key)
    return PhotoKey(match["event_id"], match["photo_id"]) if match else None


class Status(StrEnum):
    READY = contract.READY
    FAILED = contract.FAILED
    SKIPPED = "skipped"  # duplicate delivery, already ready, or superseded
    IGNORED = "ignored"  # not a photo of ours


@dataclass(frozen=True)
class ProcessResult:
    status: Status
    reason: str = ""
    photo_id: str | None = None


@dataclass(frozen=True)
class Built:
    """An original's derivatives, rendered and written, and what the sidecar records of it."""

    rendered: Rendered
    stored: list[StoredDerivative]
    original: OriginalInfo


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = MAX_UPLOAD_BYTES
    decode: DecodeLimits = field(default_factory=DecodeLimits)


class UploadProcessor:
    def __init__(
        self,
        store: ObjectStore,
        registry: PhotoRegistry,
        claims: WorkClaims,
        *,
        derivatives_bucket: str,
        limits: UploadLimits = UploadLimits(),
        encode: EncodeSettings = EncodeSettings(),
        notifier: PhotoReadyNotifier | None = None,
    ) -> None:
        self.notifier = notifier
        self.store = store
        self.registry = registry
        self.claims = claims
        self.derivatives_bucket = derivatives_bucket
        self.limits = limits
        self.encode = encode

    def process(self, bucket: str, key: str) -> ProcessResult:
        photo = parse_key(key)
        if photo is None:
            log.warning("ignored object outside originals/<event>/<photo>", extra={"key": key})
            return ProcessResult(Status.IGNORED, f"key {key[:200]!r} is not originals/<event_id>/<photo_id>")
        status = self.registry.get_status(photo.photo_id)
        if status is None:
            return ProcessResult(Status.IGNORED, "the photo is not known to the photo service",
                                 photo.photo_id)
        if status is not PhotoStatus.PENDING:
            return ProcessResult(Status.SKIPPED, f"the photo is already {status.value}", photo.photo_id)
        try:
            head = self.store.head(bucket, key)
        except ObjectMissing:
            return ProcessResult(Status.IGNORED, "the original no longer exists", photo.photo_id)

        work_key = f"{bucket}/{key}@{head.etag}"
        claim = self.claims.claim(work_key)
        if claim.state is ClaimState.DONE:
            return ProcessResult(Status.SKIPPED, f"duplicate delivery (already {claim.outcome})",
                                 photo.photo_id)
        if claim.state is ClaimState.BUSY:
            # Raising makes Lambda retry later: by then the holder has finished (the retry is
            # skipped as a duplicate) or died (its lock has expired and the retry takes over).
            raise WorkInProgressError(f"{work_key} is being processed by another invocation")

        try:
            if claim.attempt > DIED_ATTEMPTS_TOLERATED + 1:
                outcome = self._fail(photo, "processing was interrupted (the image needs more time or "
                                            "memory than the function has)")
            else:
                outcome = self._convert(bucket, key, photo, head)
        except ObjectChanged:
            self.claims.release(work_key, claim.token)
            return ProcessResult(Status.SKIPPED, "the original was replaced; its own event follows",
                                 photo.photo_id)
        except ObjectMissing:
            self.claims.release(work_key, claim.token)
            return ProcessResult(Status.IGNORED, "the original no longer exists", photo.photo_id)
        except RegistryRefused as exc:
            # The photo changed state under us (deleted, or failed by another path): nothing to retry.
            log.warning("photo service refused", extra={"photo_id": photo.photo_id, "error": str(exc)})
            outcome = ProcessResult(Status.SKIPPED, f"the photo service refused: {exc}", photo.photo_id)
        except BaseException:
            # S3, the sidecar or Redis failed: let a retry do the whole thing again.
            self.claims.release(work_key, claim.token)
            raise
        self.claims.finish(work_key, claim.token, outcome.status.value)
        return outcome

    def _convert(self, bucket: str, key: str, photo: PhotoKey, head: ObjectHead) -> ProcessResult:
        built = self._build(bucket, key, photo, head)
        if isinstance(built, str):
            return self._fail(photo, built)
        try:
            self.registry.register_derivatives(photo.photo_id, original=built.original,
                                               derivatives=built.stored)
        except RegistryRefused as exc:
            # Never leave it pending: a refusal of well-formed derivatives is a failure to record.
            return self._fail(photo, f"the derivatives could not be registered ({exc})")
        source = built.rendered.source
        log.info("photo ready", extra={"photo_id": photo.photo_id, "notes": built.rendered.notes,
                                       "width": source.width, "height": source.height})
        self._announce(photo, built.stored)
        return ProcessResult(Status.READY, "; ".join(built.rendered.notes), photo.photo_id)

    def rebuild(self, bucket: str, key: str, *, sha256: str, etag: str = "") -> ProcessResult:
        """Writes a ``ready`` photo's derivatives again from its original: the storage check
        found some of them gone from S3 while the original is still there.

        Only from the original the photo was registered with (what buyers paid for): ``etag``
        (when recorded) and ``sha256`` are what the photo's row holds, checked before anything
        is written; the sidecar checks the hash again (RegisterDerivatives on a ready photo
        accepts only the same original and keys, and changes nothing). The photo stays ``ready``
        throughout and keeps its keys, so a repeated or concurrent rebuild writes the same
        objects again: no work claim is needed, and none is left behind to stop a later
        rebuild. Nothing is marked failed here: FAILED answers say why it cannot be rebuilt,
        and the caller (the storage check) marks the photo lost. S3, sidecar or Redis errors
        raise (the next check tries again)."""
        photo = parse_key(key)
        if photo is None:
            return ProcessResult(Status.IGNORED, f"key {key[:200]!r} is not originals/<event_id>/<photo_id>")
        status = self.registry.get_status(photo.photo_id)
        if status is None:
            return ProcessResult(Status.IGNORED, "the photo is not known to the photo service",
                                 photo.photo_id)
        if status is not PhotoStatus.READY:
            return ProcessResult(Status.SKIPPED, f"the photo is {status.value}", photo.photo_id)
        try:
            head = self.store.head(bucket, key)
        except ObjectMissing:
            return ProcessResult(Status.FAILED, "the original no longer exists", photo.photo_id)
        if etag and head.etag != etag:
            return ProcessResult(Status.FAILED, "the original is not the one the photo was registered with"
                                 f" (ETag {head.etag}, registered {etag})", photo.photo_id)
        try:
            built = self._build(bucket, key, photo, head, expect_sha256=sha256)
        except ObjectMissing:
            return ProcessResult(Status.FAILED, "the original no longer exists", photo.photo_id)
        if isinstance(built, str):
            return ProcessResult(Status.FAILED, f"the original cannot be processed again: {built}",
                                 photo.photo_id)
        try:
            self.registry.register_derivatives(photo.photo_id, original=built.original,
                                               derivatives=built.stored)
        except RegistryRefused as exc:
            return ProcessResult(Status.FAILED, f"the photo service refused the rebuilt derivatives ({exc})",
                                 photo.photo_id)
        log.info("derivatives rebuilt", extra={"photo_id": photo.photo_id, "count": len(built.stored)})
        return ProcessResult(Status.READY, "derivatives rebuilt from the original", photo.photo_id)

    def _build(self, bucket: str, key: str, photo: PhotoKey, head: ObjectHead, *,
               expect_sha256: str = "") -> Built | str:
        """The derivatives rendered from the original and written, or why they cannot be."""
        size, watermark_text = head.size, head.metadata.get(WATERMARK_METADATA)
        if size > self.limits.max_bytes:
            return f"the file is {_mib(size)}; the limit is {_mib(self.limits.max_bytes)}"
        if size == 0:
            return "the file is empty"
        try:
            data = self.store.get(bucket, key, etag=head.etag, max_bytes=self.limits.max_bytes,
                                  version_id=head.version_id)
        except ObjectTooLarge:
            return f"the file is larger than the limit of {_mib(self.limits.max_bytes)}"
        digest = hashlib.sha256(data).hexdigest()
        if expect_sha256 and digest != expect_sha256:
            return f"its SHA-256 {digest} is not the registered {expect_sha256}"

        try:
            rendered = render(data, watermark.clean_text(watermark_text), self.limits.decode, self.encode)
        except ImageRejected as exc:
            return exc.reason
        except MemoryError:
            return "the image needs more memory to process than the function has"
        except Exception as exc:
            log.exception("unexpected error while converting", extra={"photo_id": photo.photo_id})
            return f"the image could not be processed ({type(exc).__name__})"

        stored = self._store(photo, rendered)
        source = rendered.source
        original = OriginalInfo(
            format=source.format,
            width=source.width,
            height=source.height,
            bytes=len(data),
            sha256=digest,
            etag=head.etag,
            version_id=head.version_id,
            captured_at=source.captured_at,
            camera_make=source.camera_make,
            camera_model=source.camera_model,
        )
        return Built(rendered, stored, original)

    def _announce(self, photo: PhotoKey, stored: list[StoredDerivative]) -> None:
        """The photo is ready whatever happens here: a lost notice costs face indexing of one
        photo, never the upload, so a failure is logged and swallowed."""
        web = next((s for s in stored if s.size == "web" and s.format == "jpg"),
                   next((s for s in stored if s.size == "web"), None))
        if self.notifier is None or web is None:
            return
        try:
            self.notifier.photo_ready(PhotoReady(photo.photo_id, photo.event_id, web.key))
        except Exception as exc:
            log.error("photo-ready notice not sent; the photo will not be face-indexed",
                      extra={"photo_id": photo.photo_id, "error": f"{type(exc).__name__}: {exc}"})

    def _store(self, photo: PhotoKey, rendered: Rendered) -> list[StoredDerivative]:
        stored = []
        for rendition in rendered.renditions:
            key = photo.derivative_key(rendition.size, rendition.format)
            self.store.put(self.derivatives_bucket, key, rendition.body, content_type=rendition.content_type)
            stored.append(StoredDerivative(
                size=rendition.size, format=rendition.format, bucket=self.derivatives_bucket, key=key,
                content_type=rendition.content_type, width=rendition.width, height=rendition.height,
                bytes=len(rendition.body),
            ))
        return stored

    def _fail(self, photo: PhotoKey, reason: str) -> ProcessResult:
        self.registry.mark_failed(photo.photo_id, reason)
        log.info("photo failed", extra={"photo_id": photo.photo_id, "reason": reason})
        return ProcessResult(Status.FAILED, reason, photo.photo_id)


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"
