"""Bib-number use cases: record the numbers read in a photo, read them back, search an event.

Visibility is the photo service's, as for face search: a search sees an event only if the
caller may see the event, answers only `ready` photos the caller may see, and each photo is
the caller's view of it (the paywall of ListEventPhotos). Numbers are plain data (no index in
memory), so every sidecar instance answers from Postgres and none can be stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from photostack.contract import READY

from sidecar import bib_domain as b
from sidecar import domain as d
from sidecar.face_domain import decode_offset, encode_offset
from sidecar.repository import Repository
from sidecar.service import PhotoService, locked_photo


@dataclass(frozen=True)
class BibsIndexed:
    photo_id: str
    bib_count: int
    indexed_at: dt.datetime


@dataclass(frozen=True)
class PhotoBibs:
    photo_id: str
    indexed_at: dt.datetime | None  # None: not read yet
    bibs: list[b.StoredBib]


@dataclass(frozen=True)
class BibMatch:
    photo: d.Photo
    bib: b.StoredBib


class BibService:
    def __init__(self, repo: Repository, photos: PhotoService) -> None:
        self._repo = repo
        self._photos = photos

    def index_bibs(self, caller: d.Caller, photo_id: str, bibs: Sequence[b.NewBib]) -> BibsIndexed:
        """Replace the photo's numbers (an empty list records "read, no number"); idempotent."""
        photo_id = d.pipeline_photo_id(caller, photo_id)
        b.check_bib_count(len(bibs))
        best = b.best_per_number(list(bibs))
        with self._repo.transaction() as tx:
            photo = locked_photo(tx, photo_id)
            d.require_indexable(photo)
            indexed_at = tx.bibs.replace(photo_id, photo.event_id, best)
        return BibsIndexed(photo_id, len(best), indexed_at)

    def photo_bibs(self, caller: d.Caller, photo_id: str) -> PhotoBibs:
        photo = self._photos.get_photo(caller, photo_id)  # NotFound unless the caller may see it
        with self._repo.transaction() as tx:
            return PhotoBibs(photo.id, tx.bibs.scanned_at(photo.id), tx.bibs.of_photo(photo.id))

    def search_bibs(self, caller: d.Caller, event_id: str, number: str, *, limit: int,
                    cursor: str) -> d.Page[BibMatch]:
        d.check_caller(caller)
        event = self._photos.get_event(caller, event_id)
        number = b.search_number(number)
        size = d.page_size(limit)  # the same 1..100, default 50, as every list
        offset = decode_offset(cursor)
        with self._repo.transaction() as tx:
            found = tx.bibs.search(event.id, number, b.MAX_CANDIDATES)
            photos = tx.get_photos([x.photo_id for x in found]) if found else {}
            unsure = [p.id for p in photos.values() if d.needs_purchase_check(caller, p)]
            bought = tx.bought(caller.user_id, unsure) if unsure else set()
        visible = [BibMatch(d.view_for(caller, p, bought=p.id in bought), x) for x in found
                   if (p := photos.get(x.photo_id)) is not None and p.status == READY
                   and d.can_see_photo(caller, p, bought=p.id in bought)]
        page = visible[offset: offset + size]
        more = len(visible) > offset + size
        return d.Page(page, encode_offset(offset + size) if more else "")
