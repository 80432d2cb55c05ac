"""Face search use cases: index a photo's faces, search an event by one face, opt out.

Visibility is the photo service's: a search sees an event only if the caller may see the
event, and returns only `ready` photos the caller may see.

Opt-out, and how far it goes. A user who opts out gives a selfie; only its embedding is kept
(as their reference). Every indexed face that matches the reference (similarity >= 0.30, the
lowest threshold any search may use) is labelled as theirs, at opt-out time for the faces
already indexed and at indexing time for later ones. Labelled faces are left out of every
search but the user's own, so their own search still finds their photos. What it does not do:
faces that the reference fails to match (a very different angle, age or lighting) stay
searchable; a photo where the user appears is still found through the *other* people in it
(the photo is not hidden, only the user's face is not a way to it); the photos themselves stay
in the event for browsing. Opting back in removes the reference and the labels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sidecar import domain as d
from sidecar import face_domain as f
from sidecar.cache import PhotoCache
from sidecar.face_index import HostedFaceIndex
from sidecar.repository import Repository, Transaction
from sidecar.service import PhotoService
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
    faces_withheld: int


class FaceService:
    def __init__(self, repo: Repository, cache: PhotoCache, photos: PhotoService,
                 index: HostedFaceIndex | None = None) -> None:
        self._repo = repo
        self._cache = cache
        self._photos = photos
        self.index = index or HostedFaceIndex()

    def index_faces(self, caller: d.Caller, photo_id: str, faces: Sequence[f.NewFace]) -> Indexed:
        """Replace the photo's faces (an empty list records "no face"); idempotent."""
        d.check_caller(caller)
        d.require_pipeline(caller)
        photo_id = d.parse_uuid(photo_id, "photo")
        f.check_face_count(len(faces))
        embeddings = (np.stack([x.embedding for x in faces]) if faces
                      else np.zeros((0, f.DIMENSIONS), dtype=np.float32))
        with self._repo.transaction() as tx:
            photo = tx.get_photo(photo_id, for_update=True)
            if photo is None:
                raise d.NotFound("photo not found")
            if photo.status != "ready":
                raise d.FailedPrecondition(f"the photo is {photo.status}; only ready photos are indexed")
            subjects = f.recognise(embeddings, tx.faces.opt_out_references())
            face_ids = tx.faces.replace(photo_id, photo.event_id, faces, subjects)
            indexed_at = tx.faces.mark_indexed(photo_id, len(faces))
            version = tx.faces.bump_version(photo.event_id)

        def apply(index: VectorIndex) -> None:
            index.remove_photos(photo.event_id, [photo_id])
            if face_ids:
                index.add(photo.event_id, face_ids, [photo_id] * len(face_ids), embeddings, subjects)

        self.index.written(photo.event_id, version, apply)
        self._cache.photo_changed(photo_id, photo.event_id)
        return Indexed(photo_id, len(faces), indexed_at)

    def search_faces(self, caller: d.Caller, event_id: str, embedding: bytes, *, threshold: float,
                     limit: int, cursor: str) -> d.Page[FaceMatch]:
        d.check_caller(caller)
        event = self._photos.get_event(caller, event_id)
        query = f.decode_embedding(embedding)
        threshold = f.search_threshold(threshold)
        size = f.search_page_size(limit)
        offset = f.decode_offset(cursor)
        with self._repo.transaction() as tx:
            version = tx.faces.version(event.id)
            others_opted_out = tx.faces.opted_out_users(caller.user_id)

        def load() -> f.FaceRows:
            with self._repo.transaction() as tx:
                return tx.faces.event_faces(event.id)

        ranked = self.index.search(event.id, version, load, query, threshold=threshold,
                                   limit=f.MAX_CANDIDATES, exclude_subjects=others_opted_out)
        if not ranked:
            return d.Page([], "")
        with self._repo.transaction() as tx:
            photos = tx.get_photos([m.photo_id for m in ranked])
        # The index may hold faces of photos deleted, failed or hidden since: Postgres decides.
        visible = [FaceMatch(p, m.score) for m in ranked
                   if (p := photos.get(m.photo_id)) is not None and p.status == "ready"
                   and d.can_see_photo(caller, p)]
        page = visible[offset: offset + size]
        more = len(visible) > offset + size
        return d.Page(page, f.encode_offset(offset + size) if more else "")

    def set_face_indexing(self, caller: d.Caller, *, enabled: bool, reference: bytes) -> OptOutState:
        d.check_caller(caller)
        f.check_may_opt_out(caller)
        user = caller.user_id
        if enabled:
            with self._repo.transaction() as tx:
                touched = tx.faces.release_subject(user)
                tx.faces.delete_opt_out(user)
                self._bump(tx, touched)
            self._evict(touched)
            return OptOutState(enabled=True, faces_withheld=0)
        if not reference:
            raise d.InvalidArgument("opting out needs a selfie: it is how your face is recognised "
                                    "in indexed photos")
        vector = f.decode_embedding(reference, "the reference embedding")
        with self._repo.transaction() as tx:
            # A new reference replaces the old one: recognise again from scratch.
            touched = tx.faces.release_subject(user)
            tx.faces.save_opt_out(user, vector)
            for face_ids, event_ids, matrix in tx.faces.unlabelled_faces():
                hits = np.flatnonzero(matrix @ vector >= f.OPT_OUT_MATCH).tolist()
                if hits:
                    tx.faces.withhold([face_ids[i] for i in hits], user)
                    touched.update(event_ids[i] for i in hits)
            self._bump(tx, touched)
            withheld = tx.faces.withheld_count(user)
        self._evict(touched)
        return OptOutState(enabled=False, faces_withheld=withheld)

    @staticmethod
    def _bump(tx: Transaction, events: set[str]) -> None:
        for event_id in sorted(events):  # a fixed order: concurrent opt-outs cannot deadlock
            tx.faces.bump_version(event_id)

    def _evict(self, events: set[str]) -> None:
        for event_id in events:
            self.index.evict(event_id)
