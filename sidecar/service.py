"""The photo use cases: ownership and state rules around the repository and the cache.

Reads go through the cache; every write commits first, then invalidates what it
touched. Errors are :mod:`sidecar.domain` exceptions, mapped to gRPC codes by the
servicer. Every photo handed out goes through :func:`sidecar.domain.view_for` (the
paywall); whether a caller bought a photo is read from the transactions schema's
``photo_entitlements`` view, never cached, so a purchase or a refund counts at once.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid

from photostack.contract import FAILED, READY, original_key

from sidecar import domain as d
from sidecar import reservations
from sidecar.cache import EventLook, PhotoCache
from sidecar.memo import IdentityMemo
from sidecar.repository import Repository, Transaction

# GetPhotos: an order holds at most 50 photos (transactions.domain); room to spare, still bounded.
MAX_PHOTOS_PER_GET = 100
# MarkLostBatch: one transaction locks every photo of a call; 500 keeps a call to a few hundred
# milliseconds and its answer to a few hundred kilobytes, and the storage check to one call per 500 losses.
MAX_LOST_PER_CALL = 500


class PhotoService:
    def __init__(self, repo: Repository, cache: PhotoCache) -> None:
        self._repo = repo
        self._cache = cache
        # The two views of a page's photos (see list_event_photos and sidecar/memo.py).
        self._granted = IdentityMemo(d.granted)
        self._withheld = IdentityMemo(d.withheld)

    # --- events ------------------------------------------------------------------

    def create_event(self, caller: d.Caller, new: d.NewEvent) -> d.Event:
        d.check_caller(caller)
        new = d.validate_new_event(caller, new)
        with self._repo.transaction() as tx:
            event = tx.insert_event(caller.user_id, new)
            if event is None:  # the idempotency key was used before
                assert new.idempotency_key is not None
                event = tx.event_by_idempotency_key(caller.user_id, new.idempotency_key)
                if event is None or (event.name, event.date, event.place, event.visibility) != (
                        new.name, new.date, new.place, new.visibility):
                    raise d.AlreadyExists("this idempotency key was used for a different event")
        return event

    def _visible_event(self, caller: d.Caller, event_id: str, *, seen: EventLook | None = None) -> d.Event:
        event_id = d.parse_uuid(event_id, "event")

        def load() -> d.Event | None:
            with self._repo.transaction() as tx:
                return tx.get_event(event_id)

        event = self._cache.event(event_id, load, seen=seen)
        if event is None or not d.can_see_event(caller, event):
            raise d.NotFound("event not found")
        return event

    def get_event(self, caller: d.Caller, event_id: str) -> d.Event:
        d.check_caller(caller)
        return self._visible_event(caller, event_id)

    def list_events(self, caller: d.Caller, *, mine_only: bool, limit: int, cursor: str) -> d.Page[d.Event]:
        d.check_caller(caller)
        size = d.page_size(limit)
        after = d.decode_cursor(cursor)
        with self._repo.transaction() as tx:
            events = tx.list_events(caller.user_id, mine_only=mine_only, everything=caller.privileged,
                                    after=after, limit=size + 1)
        return _page(events, size)

    # --- photos ------------------------------------------------------------------

    def reserve_photo(self, caller: d.Caller, event_id: str, content_type: str, declared_bytes: int,
                      idempotency_key: str = "") -> d.Photo:
        d.check_caller(caller)
        event = self._visible_event(caller, event_id)
        d.require_owner(caller, event.owner_id, "event")
        d.validate_reservation(content_type, declared_bytes)
        key = idempotency_key.strip() or None
        photo_id = str(uuid.uuid4())
        with self._repo.transaction() as tx:
            if not tx.insert_photo(photo_id, event, original_key(event.id, photo_id), content_type,
                                   declared_bytes, key):
                assert key is not None
                existing_id = tx.photo_id_by_idempotency_key(caller.user_id, key)
                existing = tx.get_photo(existing_id) if existing_id else None
                wanted = (event.id, content_type, declared_bytes)
                if existing is None or (existing.event_id, existing.content_type,
                                        existing.declared_bytes) != wanted:
                    raise d.AlreadyExists("this idempotency key was used for a different upload")
                # A replay hands out a new upload URL only while the photo is pending: after
                # that the original is what buyers pay for and must never change.
                d.require_replaceable(existing)
                # The caller gets a new upload URL: the reservation is not idle (reservations.py).
                tx.touch_reservation(existing.id)
                return d.view_for(caller, existing, bought=False)
            photo = tx.get_photo(photo_id)
        return self._changed(caller, photo)

    def register_derivatives(self, caller: d.Caller, photo_id: str, processed: d.Processed) -> d.Photo:
        photo_id = d.pipeline_photo_id(caller, photo_id)
        d.validate_processed(processed)
        with self._repo.transaction() as tx:
            photo = locked_photo(tx, photo_id)
            if photo.status == READY:
                if d.same_processing(photo, processed):
                    return d.view_for(caller, photo, bought=False)  # the same result delivered again
                raise d.FailedPrecondition("the photo is already registered with other derivatives")
            if photo.status == FAILED:
                raise d.FailedPrecondition("the photo was marked failed")
            tx.register(photo_id, processed)
            updated = tx.get_photo(photo_id)
        return self._changed(caller, updated)

    def mark_failed(self, caller: d.Caller, photo_id: str, reason: str) -> d.Photo:
        photo_id = d.pipeline_photo_id(caller, photo_id)
        reason = d.validate_reason(reason)
        with self._repo.transaction() as tx:
            photo = locked_photo(tx, photo_id)
            if photo.status == FAILED:
                return d.view_for(caller, photo, bought=False)
            if photo.status == READY:
                raise d.FailedPrecondition("the photo is already ready")
            tx.mark_failed(photo_id, reason)
            updated = tx.get_photo(photo_id)
        return self._changed(caller, updated)

    # --- reservations whose bytes never came (sidecar/reservations.py) ---------------

    def list_idle_reservations(self, caller: d.Caller, *, idle_s: int, event_id: str,
                               limit: int) -> list[d.Photo]:
        d.check_caller(caller)
        d.require_pipeline(caller)
        idle_s = reservations.idle_seconds(idle_s)
        event = d.parse_uuid(event_id, "event") if event_id else None
        with self._repo.transaction() as tx:
            photos = tx.idle_reservations(idle_s, event, reservations.listed(limit))
        return [d.view_for(caller, p, bought=False) for p in photos]

    def expire_reservation(self, caller: d.Caller, photo_id: str, *, idle_s: int) -> d.Photo:
        """``failed`` with the expiry reason if still idle; otherwise the photo as it is."""
        photo_id = d.pipeline_photo_id(caller, photo_id)
        idle_s = reservations.idle_seconds(idle_s)
        with self._repo.transaction() as tx:
            photo = locked_photo(tx, photo_id)
            if not tx.reservation_idle(photo_id, idle_s):
                return d.view_for(caller, photo, bought=False)
            tx.mark_failed(photo_id, reservations.expired_reason(idle_s))
            updated = tx.get_photo(photo_id)
        return self._changed(caller, updated)

    def mark_lost(self, caller: d.Caller, photo_id: str, reason: str) -> d.Photo:
        """``failed`` with ``reason`` if still ready (the storage check found its objects gone
        from S3); a photo no longer ready is answered as it is."""
        photo_id = d.pipeline_photo_id(caller, photo_id)
        reason = d.validate_reason(reason)
        with self._repo.transaction() as tx:
            photo = locked_photo(tx, photo_id)
            if photo.status != READY:
                return d.view_for(caller, photo, bought=False)
            tx.mark_failed(photo_id, reason)
            updated = tx.get_photo(photo_id)
        return self._changed(caller, updated)

    def mark_lost_many(self, caller: d.Caller, lost: list[tuple[str, str]]) -> list[d.Photo]:
        """:meth:`mark_lost` for each (photo id, reason), in one transaction: each photo still
        ready becomes failed with its reason, the others are answered as they are. A photo that
        does not exist (or an id that cannot) is absent from the answer; request order, each id
        once with its first reason. Nothing changes unless every reason is valid."""
        d.check_caller(caller)
        d.require_pipeline(caller)
        if not lost:
            raise d.InvalidArgument("at least one photo is required")
        if len(lost) > MAX_LOST_PER_CALL:
            raise d.InvalidArgument(f"at most {MAX_LOST_PER_CALL} photos per MarkLostBatch call,"
                                    f" got {len(lost)}")
        reasons: dict[str, str] = {}
        for raw_id, raw_reason in lost:
            reason = d.validate_reason(raw_reason)
            try:
                photo_id = d.parse_uuid(raw_id, "photo")
            except d.NotFound:
                continue
            reasons.setdefault(photo_id, reason)
        with self._repo.transaction() as tx:
            photos = tx.lock_photos(list(reasons))
            ready = {i: reasons[i] for i, p in photos.items() if p.status == READY}
            tx.mark_failed_many(ready)
            photos.update(tx.get_photos(list(ready)))
        self._cache.photos_changed({i: photos[i].event_id for i in ready})
        return [d.view_for(caller, photos[i], bought=False) for i in reasons if i in photos]

    def get_photo(self, caller: d.Caller, photo_id: str) -> d.Photo:
        d.check_caller(caller)
        photo_id = d.parse_uuid(photo_id, "photo")
        photo = self._cache.photo(photo_id, functools.partial(self._load_photo, photo_id))
        if photo is None:
            raise d.NotFound("photo not found")
        bought = d.needs_purchase_check(caller, photo) and bool(self._bought(caller, [photo.id]))
        if not d.can_see_photo(caller, photo, bought=bought):
            raise d.NotFound("photo not found")
        return d.view_for(caller, photo, bought=bought)

    def get_photos(self, caller: d.Caller, photo_ids: list[str]) -> list[d.Photo]:
        """Each photo as :meth:`get_photo` answers it (same visibility and paywall), in one call.

        The ones ``get_photo`` would not find (unknown, not visible, not an id) are absent;
        request order, each once. One purchase lookup for all of them.
        """
        d.check_caller(caller)
        if len(photo_ids) > MAX_PHOTOS_PER_GET:
            raise d.InvalidArgument(f"at most {MAX_PHOTOS_PER_GET} photo ids per call")
        ids: list[str] = []
        for raw in photo_ids:
            try:
                ids.append(d.parse_uuid(raw, "photo"))
            except d.NotFound:
                continue
        found: list[d.Photo] = []
        for photo_id in dict.fromkeys(ids):
            photo = self._cache.photo(photo_id, functools.partial(self._load_photo, photo_id))
            if photo is not None:
                found.append(photo)
        unsure = [p.id for p in found if d.needs_purchase_check(caller, p)]
        bought = self._bought(caller, unsure) if unsure else set()
        return [d.view_for(caller, p, bought=p.id in bought) for p in found
                if d.can_see_photo(caller, p, bought=p.id in bought)]

    def _changed(self, caller: d.Caller, photo: d.Photo | None) -> d.Photo:
        """After a committed change: the cache forgets the photo and its event's pages; the
        caller's view of the photo as it now is."""
        assert photo is not None  # read back in the transaction that changed it
        self._cache.photo_changed(photo.id, photo.event_id)
        return d.view_for(caller, photo, bought=False)

    def _load_photo(self, photo_id: str) -> d.Photo | None:
        with self._repo.transaction() as tx:
            return tx.get_photo(photo_id)

    def _bought(self, caller: d.Caller, photo_ids: list[str]) -> set[str]:
        return self._repo.bought(caller.user_id, photo_ids)

    def list_event_photos(self, caller: d.Caller, event_id: str, *, limit: int,
                          cursor: str) -> d.Page[d.Photo]:
        d.check_caller(caller)
        size = d.page_size(limit)
        # The event and the page from one read of the event's cache entry. The page looked at
        # is the public one unless the caller is privileged: for the event's owner (who sees all
        # its photos, known once the event is read), photo_page reads its page afterwards.
        seen = self._cache.look(d.parse_uuid(event_id, "event"), "all" if caller.privileged else "public",
                                cursor, size)
        event = self._visible_event(caller, event_id, seen=seen)
        after = d.decode_cursor(cursor)
        everything = d.sees_all_photos_of(caller, event)

        def load() -> d.Page[d.Photo]:
            with self._repo.transaction() as tx:
                photos = tx.list_event_photos(event.id, ready_public_only=not everything, after=after,
                                              limit=size + 1)
            return _page(photos, size)

        page = self._cache.photo_page(event.id, "all" if everything else "public", cursor, size, load,
                                      seen=seen)
        unsure = [p.id for p in page.items if d.needs_purchase_check(caller, p)]
        bought = self._bought(caller, unsure) if unsure else set()
        # Each view is remembered for the cached page's photo objects (sidecar/memo.py).
        return d.Page([d.view_for(caller, p, bought=p.id in bought, grant=self._granted,
                                  withhold=self._withheld) for p in page.items], page.next_cursor)

    def update_photo(self, caller: d.Caller, photo_id: str, change: d.PhotoChange) -> d.Photo:
        d.check_caller(caller)
        photo_id = d.parse_uuid(photo_id, "photo")
        with self._repo.transaction() as tx:
            photo = tx.get_photo(photo_id, for_update=True)
            if photo is None or not d.can_see_photo(caller, photo):
                raise d.NotFound("photo not found")
            d.require_owner(caller, photo.owner_id, "photo")
            price, currency, visibility = d.apply_change(photo, change)
            tx.update_photo(photo_id, price, currency, visibility)
            updated = tx.get_photo(photo_id)
        return self._changed(caller, updated)

    def delete_photo(self, caller: d.Caller, photo_id: str) -> d.Photo:
        """Delete a photo nobody bought; unlist a sold one.

        The answer names the objects the caller is to remove: all of them for a deleted
        photo, none for an unlisted one (its buyers keep downloading the original).
        """
        d.check_caller(caller)
        photo_id = d.parse_uuid(photo_id, "photo")
        with self._repo.transaction() as tx:
            tx.lock_sales_of(photo_id)  # no order of this photo commits while we decide
            photo = tx.get_photo(photo_id, for_update=True)
            if photo is None or not d.can_see_photo(caller, photo):
                raise d.NotFound("photo not found")
            d.require_owner(caller, photo.owner_id, "photo")
            sold = tx.sold(photo_id)
            if sold:
                tx.unlist_photo(photo_id)
            else:
                tx.delete_photo(photo_id)
        self._cache.photo_changed(photo_id, photo.event_id)
        if sold:
            return dataclasses.replace(photo, original_key="", derivatives=(), full_access=True)
        return d.view_for(caller, photo, bought=False)


def locked_photo(tx: Transaction, photo_id: str) -> d.Photo:
    """The photo, locked until ``tx`` ends, for a change that reads it first; NotFound if none."""
    photo = tx.get_photo(photo_id, for_update=True)
    if photo is None:
        raise d.NotFound("photo not found")
    return photo


def _page[T: (d.Event, d.Photo)](rows: list[T], size: int) -> d.Page[T]:
    """Rows fetched with one extra to know whether another page follows."""
    if len(rows) <= size:
        return d.Page(rows, "")
    items = rows[:size]
    last = items[-1]
    return d.Page(items, d.encode_cursor(last.created_at, last.id))
