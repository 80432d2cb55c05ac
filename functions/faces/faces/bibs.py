"""The bib-index step: a photo became ready -> the numbers on its web derivative, stored
through the photo sidecar (IndexBibs).

It runs after the face step for each notice (faces.indexing.FaceIndexer calls it), with the
same delivery rules: a photo already read is skipped before any work (GetPhotoBibs), IndexBibs
replaces what a photo had, a photo deleted or failed meanwhile is skipped, and anything
transient raises so that SQS delivers the notice again (the face step then skips).
"""

from __future__ import annotations

from typing import Any, Protocol

from bibocr.models import OcrModels
from bibocr.pipeline import Bib, bibs_in_image, load_image
from photostack import errors
from photostack.contract import WEB_KINDS
from photostack.jsonlog import get_logger
from photostack.photo.v1 import photo_pb2 as pb
from PIL import UnidentifiedImageError

log = get_logger("faces.bibs")


class BibsSidecar(Protocol):
    """What bib indexing needs of the photo sidecar (a PhotoClient in production)."""

    def get_photo(self, request: pb.GetPhotoRequest) -> pb.Photo: ...

    def get_photo_bibs(self, request: pb.GetPhotoBibsRequest) -> pb.PhotoBibs: ...

    def index_bibs(self, request: pb.IndexBibsRequest) -> pb.IndexBibsResponse: ...


class Derivatives(Protocol):
    def read(self, key: str) -> bytes | None: ...


class BibIndexer:
    def __init__(self, photos: BibsSidecar, derivatives: Derivatives, models: OcrModels) -> None:
        self.photos = photos
        self.derivatives = derivatives
        self.models = models

    def index(self, photo_id: str, web_key: Any = None) -> int | None:
        """The number of bibs stored, or None when the photo was skipped (logged with why)."""
        try:
            photo = self.photos.get_photo(pb.GetPhotoRequest(photo_id=photo_id))
            if photo.status != pb.PHOTO_STATUS_READY:
                return self._skipped(photo_id, "the photo is not ready")
            done = self.photos.get_photo_bibs(pb.GetPhotoBibsRequest(photo_id=photo_id))
        except errors.NotFound:
            return self._skipped(photo_id, "the photo no longer exists")
        if done.HasField("bibs_indexed_at"):
            return self._skipped(photo_id, "bibs already read")
        keys = {d.kind: d.key for d in photo.derivatives}
        key = next((keys[k] for k in WEB_KINDS if k in keys), None) or web_key
        data = self.derivatives.read(key) if isinstance(key, str) and key else None
        if data is None:
            return self._skipped(photo_id, "the web derivative no longer exists")
        bibs = self._read(photo_id, data)
        request = pb.IndexBibsRequest(photo_id=photo_id, bibs=[
            pb.Bib(number=b.number, confidence=b.confidence,
                   x1=b.box[0], y1=b.box[1], x2=b.box[2], y2=b.box[3]) for b in bibs])
        try:
            return self.photos.index_bibs(request).bib_count
        except (errors.NotFound, errors.Conflict) as exc:  # deleted or failed meanwhile
            return self._skipped(photo_id, str(exc))

    def _read(self, photo_id: str, data: bytes) -> list[Bib]:
        try:
            image = load_image(data)
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            # Our own derivative failed to decode: record "no number" rather than retry forever.
            log.warning("web derivative unreadable; recorded without bibs",
                        extra={"photo_id": photo_id, "error": str(exc)})
            return []
        return bibs_in_image(image, self.models)

    @staticmethod
    def _skipped(photo_id: str, reason: str) -> None:
        log.info("bib reading skipped", extra={"photo_id": photo_id, "reason": reason})
        return None
