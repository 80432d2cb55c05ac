"""Photos API: events, photos and uploads. Routes only; the work is in ``photos``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response  # type: ignore[attr-defined]
from photos import bootstrap
from photos.face_search_limit import face_search_limit, source_ip
from photos.selfies import MAX_BODY_BYTES as SELFIE_BODY_BYTES
from photos.web import ERRORS
from photostack.contract import EVENT_CREATORS, UPLOADERS
from photostack.http import (
    api_route,
    authenticate,
    int_query_param,
    json_response,
    json_text_response,
    query_param,
    read_json,
)

app = Chalice(app_name="photostack-photos")


def route(path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``api_route`` with this function's domain errors mapped through ``photos.web.ERRORS``."""
    return api_route(app, path, error_table=ERRORS, **kwargs)


def _request():  # type: ignore[no-untyped-def]
    request = app.current_request
    assert request is not None
    return request


def _idempotency_key() -> str:
    headers = dict(_request().headers or {})
    return str(headers.get("idempotency-key", ""))[:200]


def _page_args() -> tuple[str, int]:
    return query_param(_request(), "cursor") or "", int_query_param(_request(), "limit", 50, lo=1, hi=100)


@route("/health", methods=["GET"])
def health() -> Response:
    bootstrap.service().health()
    return json_response({"status": "ok", "service": "photos"})


@route("/events", methods=["POST"])
def create_event() -> Response:
    principal = authenticate(_request(), roles=EVENT_CREATORS)
    return json_response(
        bootstrap.service().create_event(principal, read_json(_request()), _idempotency_key()), 201
    )


@route("/events", methods=["GET"])
def list_events() -> Response:
    principal = authenticate(_request())
    cursor, limit = _page_args()
    mine = (query_param(_request(), "mine") or "").lower() in ("1", "true", "yes")
    return json_response(bootstrap.service().list_events(principal, mine=mine, cursor=cursor, limit=limit))


@route("/events/{event_id}", methods=["GET"])
def get_event(event_id: str) -> Response:
    return json_response(bootstrap.service().get_event(authenticate(_request()), event_id))


@route("/events/{event_id}/photos", methods=["GET"])
def list_event_photos(event_id: str) -> Response:
    principal = authenticate(_request())
    cursor, limit = _page_args()
    bib = query_param(_request(), "bib")
    if bib is not None:  # photos where this bib number was read, best first
        found = bootstrap.service().bib_search(principal, event_id, bib, cursor=cursor, limit=limit)
        return json_response(found)
    page = bootstrap.service().list_event_photos(principal, event_id, cursor=cursor, limit=limit)
    return json_text_response(page)


@route("/photos/{photo_id}", methods=["GET"])
def get_photo(photo_id: str) -> Response:
    return json_response(bootstrap.service().get_photo(authenticate(_request()), photo_id))


@route("/photos/{photo_id}", methods=["PATCH"])
def update_photo(photo_id: str) -> Response:
    principal = authenticate(_request())
    return json_response(bootstrap.service().update_photo(principal, photo_id, read_json(_request())))


@route("/photos/{photo_id}", methods=["DELETE"])
def delete_photo(photo_id: str) -> Response:
    bootstrap.service().delete_photo(authenticate(_request()), photo_id)
    return Response(body="", status_code=204)


@route("/uploads", methods=["POST"])
def start_upload() -> Response:
    principal = authenticate(_request(), roles=UPLOADERS)
    return json_response(
        bootstrap.service().start_upload(principal, read_json(_request()), _idempotency_key()), 201
    )


@route("/uploads/{photo_id}/complete", methods=["POST"])
def complete_upload(photo_id: str) -> Response:
    principal = authenticate(_request(), roles=UPLOADERS)
    return json_response(bootstrap.service().complete_upload(principal, photo_id, read_json(_request())))


@route("/events/{event_id}/face-search", methods=["POST"])
def face_search(event_id: str) -> Response:
    principal = authenticate(_request())
    face_search_limit().check(principal.user_id, source_ip(_request().context))
    body = read_json(_request(), max_bytes=SELFIE_BODY_BYTES)
    cursor, limit = _page_args()
    found = bootstrap.service().face_search(principal, event_id, body, cursor=cursor, limit=limit)
    return json_response(found)


@route("/users/me/face-indexing", methods=["PUT"])
def set_face_indexing() -> Response:
    principal = authenticate(_request())
    body = read_json(_request(), max_bytes=SELFIE_BODY_BYTES)
    return json_response(bootstrap.service().set_face_indexing(principal, body))
