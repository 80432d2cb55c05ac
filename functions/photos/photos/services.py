"""Use cases of the photos API: call the photo sidecar, presign, shape the answer."""

from __future__ import annotations

from typing import Any

from photostack.contract import PENDING, VISIBILITY_TO_PB
from photostack.http import json_text
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient
from photostack.tokens import Principal

from photos import bibs, domain, presenters, selfies
from photos import errors as e
from photos.page_bodies import PageBodies
from photos.storage import Storage

PAGE_BODY_TTL_S = 5.0

OPT_OUT_NOTICE = ("Only the embedding of this selfie (512 numbers computed from your face) is kept, "
                  "to recognise you in indexed photos; the image itself is not stored. Faces that match "
                  "it are left out of every face search, yours included. Photos you are in stay "
                  "browsable and can still be found through other people in them. Opting back in "
                  "deletes it.")


class PhotosService:
    def __init__(self, client: PhotoClient, storage: Storage) -> None:
        self._client = client
        self._storage = storage
        # A twentieth of the URLs' lifetime at most (see photos/page_bodies.py), 5 s at 300 s.
        self._page_bodies = PageBodies(ttl_s=min(PAGE_BODY_TTL_S, storage.ttl_s / 20))

    def _photo(self, p: pb.Photo, principal: Principal) -> dict[str, Any]:
        return presenters.photo(p, self._storage.derivative_url, viewer_id=principal.user_id)

    def health(self) -> None:
        self._client.health()

    # events

    def create_event(
        self, principal: Principal, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        e = domain.parse_event(body)
        created = self._client.create_event(
            pb.CreateEventRequest(
                name=e.name,
                date=e.date,
                place=e.place,
                visibility=VISIBILITY_TO_PB[e.visibility],
                idempotency_key=idempotency_key,
            ),
            user=principal,
        )
        return presenters.event(created)

    def list_events(self, principal: Principal, *, mine: bool, cursor: str, limit: int) -> dict[str, Any]:
        page = self._client.list_events(
            pb.ListEventsRequest(mine_only=mine, cursor=cursor, limit=limit), user=principal
        )
        return {"events": [presenters.event(e) for e in page.events], "next_cursor": page.next_cursor or None}

    def get_event(self, principal: Principal, event_id: str) -> dict[str, Any]:
        return presenters.event(
            self._client.get_event(pb.GetEventRequest(event_id=event_id), user=principal)
        )

    # photos

    def list_event_photos(self, principal: Principal, event_id: str, *, cursor: str, limit: int) -> str:
        """The page as JSON text (photostack.http.json_text), kept a few seconds per answer of the
        sidecar (photos/page_bodies.py): the sidecar is asked on every call."""
        page = self._client.list_event_photos(
            pb.ListEventPhotosRequest(event_id=event_id, cursor=cursor, limit=limit), user=principal
        )
        viewer = principal.user_id
        # An owner's photos carry more for them (presenters.photo): their id is part of the key.
        owner = viewer if any(p.owner_id == viewer for p in page.photos) else ""
        return self._page_bodies.get((page.SerializeToString(deterministic=True), owner), lambda: json_text({
            "photos": [self._photo(p, principal) for p in page.photos],
            "next_cursor": page.next_cursor or None,
        }))

    def bib_search(self, principal: Principal, event_id: str, bib: str, *, cursor: str,
                   limit: int) -> dict[str, Any]:
        found = self._client.search_bibs(pb.SearchBibsRequest(
            event_id=event_id, number=bibs.parse_bib(bib), cursor=cursor,
            limit=limit), user=principal)
        return bibs.bib_page(found, lambda p: self._photo(p, principal))

    def get_photo(self, principal: Principal, photo_id: str) -> dict[str, Any]:
        return self._photo(
            self._client.get_photo(pb.GetPhotoRequest(photo_id=photo_id), user=principal),
            principal,
        )

    def update_photo(self, principal: Principal, photo_id: str, body: dict[str, Any]) -> dict[str, Any]:
        patch = domain.parse_patch(body)
        request = pb.UpdatePhotoRequest(photo_id=photo_id)
        if patch.price_minor is not None:
            request.price_minor = patch.price_minor
        if patch.currency is not None:
            request.currency = patch.currency
        if patch.visibility is not None:
            request.visibility = VISIBILITY_TO_PB[patch.visibility]
        return self._photo(self._client.update_photo(request, user=principal), principal)

    def delete_photo(self, principal: Principal, photo_id: str) -> None:
        gone = self._client.delete_photo(
            pb.DeletePhotoRequest(photo_id=photo_id), user=principal
        )
        self._storage.delete(gone.original_key, list(gone.derivative_keys))

    # uploads

    def start_upload(
        self, principal: Principal, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        upload = domain.parse_upload(body)
        photo = self._client.reserve_photo(
            pb.ReservePhotoRequest(
                event_id=upload.event_id,
                content_type=upload.content_type,
                declared_bytes=upload.size_bytes,
                idempotency_key=idempotency_key,
            ),
            user=principal,
        )
        if upload.multipart:
            target = self._storage.start_multipart(photo.original_key, upload.content_type, upload.size_bytes)
            target["complete_path"] = f"/uploads/{photo.id}/complete"
        else:
            target = self._storage.presign_put(photo.original_key, upload.content_type, upload.size_bytes)
        return {"photo_id": photo.id, "event_id": photo.event_id, "status": PENDING, "upload": target}

    def complete_upload(self, principal: Principal, photo_id: str, body: dict[str, Any]) -> dict[str, Any]:
        upload_id, parts = domain.parse_completion(body)
        photo = self._client.get_photo(pb.GetPhotoRequest(photo_id=photo_id), user=principal)
        if photo.owner_id != principal.user_id:
            raise e.NotAllowed("only the photographer who reserved this upload may complete it")
        if photo.status != pb.PHOTO_STATUS_PENDING:
            raise e.AlreadyDone("this upload is already complete", code="upload_complete")
        self._storage.complete_multipart(photo.original_key, upload_id, parts, photo.declared_bytes)
        return {"photo_id": photo.id, "status": PENDING}

    # face search

    def face_search(self, principal: Principal, event_id: str, body: dict[str, Any], *, cursor: str,
                    limit: int) -> dict[str, Any]:
        selfie = selfies.selfie_bytes(body)
        # The cheap check first: an event the caller cannot see is a 404 before any face work.
        self._client.get_event(pb.GetEventRequest(event_id=event_id), user=principal)
        found = self._client.search_faces(pb.SearchFacesRequest(
            event_id=event_id, embedding=selfies.embedding_of(selfie), limit=limit, cursor=cursor),
            user=principal)
        return {
            "matches": [presenters.face_match(m, self._storage.derivative_url) for m in found.matches],
            "next_cursor": found.next_cursor or None,
        }

    def set_face_indexing(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise e.InvalidRequest("enabled must be true or false")
        reference = b""
        if not enabled:
            reference = selfies.embedding_of(selfies.selfie_bytes(body))
        state = self._client.set_face_indexing(pb.SetFaceIndexingRequest(
            enabled=enabled, reference_embedding=reference), user=principal)
        answer: dict[str, Any] = {"enabled": state.enabled, "reference_stored": not state.enabled}
        if not state.enabled:
            answer["notice"] = OPT_OUT_NOTICE
        return answer
