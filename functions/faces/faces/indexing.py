"""The face-index use case: a photo became ready -> its faces, stored through the photo sidecar.

Delivery is at least once (SQS). The sidecar records when a photo was indexed, so a notice for
a photo already indexed is skipped before any work, and IndexFaces replaces a photo's faces, so
two deliveries racing each other still leave one set. A photo deleted or failed meanwhile is
skipped; anything transient (S3, the sidecar) raises for SQS to deliver again, and after the
queue's maxReceiveCount the notice goes to the dead-letter queue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from facerec.errors import FaceInputError
from facerec.models import FaceModels
from facerec.pipeline import Face, faces_in_image, load_image
from photostack import errors
from photostack.contract import WEB_KINDS
from photostack.jsonlog import get_logger
from photostack.photo.v1 import photo_pb2 as pb

log = get_logger("faces.indexing")


class FacesSidecar(Protocol):
    """What indexing needs of the photo sidecar (a PhotoClient in production)."""

    def get_photo(self, request: pb.GetPhotoRequest) -> pb.Photo: ...

    def index_faces(self, request: pb.IndexFacesRequest) -> pb.IndexFacesResponse: ...


class Derivatives(Protocol):
    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None when it no longer exists."""
        ...


@dataclass(frozen=True)
class IndexResult:
    photo_id: str
    status: str  # "indexed" | "skipped"
    faces: int = 0
    reason: str = ""
    bibs: int | None = None  # bib numbers stored; None: the bib step skipped or is off


class BibStep(Protocol):
    """faces.bibs.BibIndexer: reads a photo's bib numbers after its faces."""

    def index(self, photo_id: str, web_key: Any = None) -> int | None: ...


class BadNotice(ValueError):
    """A message that is not a photo-ready notice: retrying cannot help."""


def parse_notice(body: Any) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("photo_id"), str) or not body["photo_id"]:
        raise BadNotice("a photo-ready notice is {photo_id, event_id, web_key}")
    return str(body["photo_id"])


class FaceIndexer:
    def __init__(self, photos: FacesSidecar, derivatives: Derivatives, models: FaceModels,
                 bibs: BibStep | None = None) -> None:
        self.photos = photos
        self.derivatives = derivatives
        self.models = models
        self.bibs = bibs

    def index(self, body: Any) -> IndexResult:
        outcome = self._index_faces(body)
        if self.bibs is None:
            return outcome
        # Bibs after faces: when this raises, the notice comes again and the faces are skipped.
        return replace(outcome, bibs=self.bibs.index(outcome.photo_id, body.get("web_key")))

    def _index_faces(self, body: Any) -> IndexResult:
        photo_id = parse_notice(body)
        try:
            photo = self.photos.get_photo(pb.GetPhotoRequest(photo_id=photo_id))
        except errors.NotFound:
            return IndexResult(photo_id, "skipped", reason="the photo no longer exists")
        if photo.status != pb.PHOTO_STATUS_READY:
            return IndexResult(photo_id, "skipped", reason="the photo is not ready")
        if photo.HasField("faces_indexed_at"):
            return IndexResult(photo_id, "skipped", photo.face_count, "already indexed")
        keys = {d.kind: d.key for d in photo.derivatives}
        key = next((keys[k] for k in WEB_KINDS if k in keys), None) or body.get("web_key")
        data = self.derivatives.read(key) if isinstance(key, str) and key else None
        if data is None:
            return IndexResult(photo_id, "skipped", reason="the web derivative no longer exists")
        faces = self._faces(photo_id, data)
        request = pb.IndexFacesRequest(photo_id=photo_id, faces=[
            pb.Face(x1=f.box[0], y1=f.box[1], x2=f.box[2], y2=f.box[3], score=f.score,
                    embedding=f.embedding.astype("<f4").tobytes()) for f in faces])
        try:
            done = self.photos.index_faces(request)
        except (errors.NotFound, errors.Conflict) as exc:  # deleted or failed meanwhile
            return IndexResult(photo_id, "skipped", reason=str(exc))
        return IndexResult(photo_id, "indexed", done.face_count)

    def _faces(self, photo_id: str, data: bytes) -> list[Face]:
        try:
            return faces_in_image(load_image(data), self.models)
        except FaceInputError as exc:
            # Our own derivative failed to decode: record "no face" rather than retry forever.
            log.warning("web derivative unreadable; recorded without faces",
                        extra={"photo_id": photo_id, "error": str(exc)})
            return []
