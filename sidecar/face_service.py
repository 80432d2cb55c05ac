"""Face search use cases: index a photo's faces, search an event by one face, opt out.

Visibility is the photo service's: a search sees an event only if the caller may see the
event, and returns only `ready` photos the caller may see.

Opt-out, and how far it goes (sidecar/README.md says it for users). A user who opts out gives
a selfie; only its embedding is kept, as a reference. From the next search on, every face that
matches ANY reference (similarity >= 0.30, the lowest threshold a search may use) is withheld
from EVERY search, the opter's own included: a withheld face has no owner who could still find
it, so opting out with somebody else's face can hide that person but never gives anyone
matches that others lack. The request only stores the reference (no face is read or written);
each sidecar instance applies references to an event's matrix when that event is searched
(sidecar/face_index.py), once per reference. Opting back in drops the reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from photostack.contract import READY

from sidecar import domain as d
from sidecar import face_domain as f
from sidecar.cache import PhotoCache
from sidecar.face_index import HostedFaceIndex
from sidecar.repository import Repository
from sidecar.service import PhotoService, locked_photo
from sidecar.vector_index import VectorIndex


@dataclass(frozen=True)
class Indexed:
    photo_id: str
    face_count: int
    indexed_at: dt.datetime


@dataclass(frozen=True)
class FaceMatch:
    photo: d.Photo
    score: float


@dataclass(frozen=True)
class OptOutState:
    enabled: bool
    changed: bool  # False: the request repeated the state already stored (nothing was done)


class FaceService:
    def __init__(self, repo: Repository, cache: PhotoCache, photos: PhotoService,
                 index: HostedFaceIndex | None = None) -> None:
        self._repo = repo
        self._cache = cache
        self._photos = photos
        self.index = index or HostedFaceIndex()

    def index_faces(self, caller: d.Caller, photo_id: str, faces: Sequence[f.NewFace]) -> Indexed:
        """Replace the photo's faces (an empty list records "no face"); idempotent."""
        photo_id = d.pipeline_photo_id(caller, photo_id)
        f.check_face_count(len(faces))
        embeddings = (np.stack([x.embedding for x in faces]) if faces
                      else np.zeros((0, f.DIMENSIONS), dtype=np.float32))
        with self._repo.transaction() as tx:
            photo = locked_photo(tx, photo_id)
            d.require_indexable(photo)
            face_ids = tx.faces.replace(photo_id, photo.event_id, faces)
            indexed_at = tx.faces.mark_indexed(photo_id, len(faces))
            version = tx.faces.bump_version(photo.event_id)

        def apply(index: VectorIndex) -> None:
            index.remove_photos(photo.event_id, [photo_id])
            if face_ids:
                index.add(photo.event_id, face_ids, [photo_id] * len(face_ids), embeddings)

        self.index.written(photo.event_id, version, apply, [photo_id])
        self._cache.photo_changed(photo_id, photo.event_id)
        return Indexed(photo_id, len(faces), indexed_at)

    def search_faces(self, caller: d.Caller, event_id: str, embedding: bytes, *, threshold: float,
                     limit: int, cursor: str) -> d.Page[FaceMatch]:
        d.check_caller(caller)
        event = self._photos.get_event(caller, event_id)
        query = f.decode_embedding(embedding)
        threshold = f.search_threshold(threshold)
        size = d.page_size(limit)  # the same 1..100, default 50, as every list
        offset = f.decode_offset(cursor)
        with self._repo.transaction() as tx:
            version = tx.faces.version(event.id)
            revision = tx.faces.opt_out_revision()

        def load() -> f.FaceRows:
            with self._repo.transaction() as tx:
                return tx.faces.event_faces(event.id)

        def load_references() -> f.References:
            with self._repo.transaction() as tx:
                return tx.faces.references()

        references = self.index.references(revision, load_references)
        ranked = self.index.search(event.id, version, load, references, query, threshold=threshold,
                                   limit=f.MAX_CANDIDATES)
        if not ranked:
            return d.Page([], "")
        with self._repo.transaction() as tx:
            photos = tx.get_photos([m.photo_id for m in ranked])
        # The index may hold faces of photos deleted, failed or hidden since: Postgres decides.
        visible = [FaceMatch(p, m.score) for m in ranked
                   if (p := photos.get(m.photo_id)) is not None and p.status == READY
                   and d.can_see_photo(caller, p)]
        page = visible[offset: offset + size]
        more = len(visible) > offset + size
        return d.Page(page, f.encode_offset(offset + size) if more else "")

    def set_face_indexing(self, caller: d.Caller, *, enabled: bool, reference: bytes) -> OptOutState:
        """Store or drop the caller's reference; nothing else happens in the request (idempotent:
        repeating it changes nothing)."""
        d.check_caller(caller)
        f.check_may_opt_out(caller)
        if enabled:
            with self._repo.transaction() as tx:
                changed = tx.faces.delete_opt_out(caller.user_id)
            return OptOutState(enabled=True, changed=changed)
        if not reference:
            raise d.InvalidArgument("opting out needs a selfie: it is how your face is recognised "
                                    "in indexed photos")
        vector = f.decode_embedding(reference, "the reference embedding")
        with self._repo.transaction() as tx:
            changed = tx.faces.save_opt_out(caller.user_id, vector)
        return OptOutState(enabled=False, changed=changed)
