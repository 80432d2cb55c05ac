"""Photo-service messages as API JSON: derivative URLs presigned, original keys left out."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from photostack.contract import PENDING, PRIVATE, STATUS_FROM_PB, THUMB_KINDS, VISIBILITY_FROM_PB
from photostack.photo.v1 import photo_pb2 as pb

_EPOCH = datetime.datetime(1970, 1, 1)


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    """The ISO 8601 text of a whole second, UTC. Cached: a page of 50 photos formats 150 times,
    mostly of a few distinct seconds, and ``Timestamp.ToDatetime().isoformat()`` was 8 % of
    the warm photos function's samples for that page (py-spy)."""
    return (_EPOCH + datetime.timedelta(seconds=seconds)).isoformat()


def _time(msg: Any, name: str) -> str | None:
    if not msg.HasField(name):
        return None
    ts: Timestamp = getattr(msg, name)
    # What ToDatetime().isoformat(timespec="milliseconds") gives: truncated to the millisecond.
    return f"{_second(ts.seconds)}.{ts.nanos // 1_000_000:03d}Z"


def event(e: pb.Event) -> dict[str, Any]:
    return {
        "id": e.id,
        "owner_id": e.owner_id,
        "name": e.name,
        "date": e.date,
        "place": e.place,
        "visibility": VISIBILITY_FROM_PB.get(e.visibility, PRIVATE),
        "created_at": _time(e, "created_at"),
    }


def photo(p: pb.Photo, sign: Callable[[str], str], *, viewer_id: str) -> dict[str, Any]:
    """The photo as this viewer may have it. The sidecar decides which derivatives a viewer gets
    (the paywall, sidecar/domain.py); ``access`` says which rule applied: "full" (owner, buyer,
    admin: every size) or "preview" (everyone else: thumbnail and watermarked preview only)."""
    body: dict[str, Any] = {
        "id": p.id,
        "event_id": p.event_id,
        "owner_id": p.owner_id,
        "status": STATUS_FROM_PB.get(p.status, PENDING),
        "visibility": VISIBILITY_FROM_PB.get(p.visibility, PRIVATE),
        "price": {"minor": p.price_minor, "currency": p.currency} if p.currency else None,
        "width": p.width or None,
        "height": p.height or None,
        "captured_at": _time(p, "captured_at"),
        "camera": p.camera or None,
        "created_at": _time(p, "created_at"),
        "updated_at": _time(p, "updated_at"),
        "access": "full" if p.full_access else "preview",
        "derivatives": {
            d.kind: {
                "url": sign(d.key),
                "width": d.width,
                "height": d.height,
                "bytes": d.bytes,
                "content_type": d.content_type,
            }
            for d in p.derivatives
        },
    }
    if viewer_id == p.owner_id:
        body.update(
            content_type=p.content_type,
            size_bytes=p.original_bytes or p.declared_bytes,
            sha256=p.sha256 or None,
            failure_reason=p.failure_reason or None,
            faces={"count": p.face_count, "indexed_at": _time(p, "faces_indexed_at")}
            if p.HasField("faces_indexed_at") else None,
        )
    return body


def face_match(m: pb.FaceMatch, sign: Callable[[str], str]) -> dict[str, Any]:
    keys = {d.kind: d.key for d in m.photo.derivatives}
    thumb = next((keys[k] for k in THUMB_KINDS if k in keys), None)
    return {
        "photo_id": m.photo.id,
        "score": round(float(m.score), 4),
        "thumb_url": sign(thumb) if thumb else None,
    }
