"""Conversions between the protobuf messages and the domain objects."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from photostack.contract import PUBLIC, STATUS_TO_PB, VISIBILITY_FROM_PB, VISIBILITY_TO_PB
from photostack.photo.v1 import photo_pb2 as pb

from sidecar import domain as d
from sidecar import face_domain as f


def visibility(value: int, *, default: str | None) -> str | None:
    if value == pb.VISIBILITY_UNSPECIFIED:
        return default
    name = VISIBILITY_FROM_PB.get(int(value))
    if name is None:
        raise d.InvalidArgument("unknown visibility")
    return name


def timestamp(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def from_timestamp(msg: Timestamp, present: bool) -> dt.datetime | None:
    return msg.ToDatetime(tzinfo=dt.UTC) if present else None


def event(e: d.Event) -> pb.Event:
    return pb.Event(id=e.id, owner_id=e.owner_id, name=e.name, date=e.date, place=e.place,
                    visibility=VISIBILITY_TO_PB[e.visibility], created_at=timestamp(e.created_at))


def derivative(x: d.Derivative) -> pb.Derivative:
    return pb.Derivative(kind=x.kind, key=x.key, width=x.width, height=x.height, bytes=x.bytes,
                         content_type=x.content_type)


def photo(p: d.Photo) -> pb.Photo:
    if not p.full_access:
        p = d.withheld(p)  # every photo leaves through here: what no rule granted is withheld
    return pb.Photo(
        id=p.id, event_id=p.event_id, owner_id=p.owner_id, status=STATUS_TO_PB[p.status],
        original_key=p.original_key, content_type=p.content_type, declared_bytes=p.declared_bytes,
        derivatives=[derivative(x) for x in p.derivatives], width=p.width or 0, height=p.height or 0,
        original_bytes=p.original_bytes or 0, sha256=p.sha256 or "", captured_at=timestamp(p.captured_at),
        camera=p.camera or "", price_minor=p.price_minor, currency=p.currency,
        visibility=VISIBILITY_TO_PB[p.visibility], failure_reason=p.failure_reason or "",
        created_at=timestamp(p.created_at), updated_at=timestamp(p.updated_at),
        face_count=p.face_count or 0, faces_indexed_at=timestamp(p.faces_indexed_at),
        full_access=p.full_access, original_etag=p.original_etag or "",
        original_version_id=p.original_version_id or "", unlisted=p.unlisted,
    )


def new_event(req: pb.CreateEventRequest) -> d.NewEvent:
    vis = visibility(req.visibility, default=PUBLIC)
    assert vis is not None
    return d.NewEvent(name=req.name, date=req.date, place=req.place, visibility=vis,
                      idempotency_key=req.idempotency_key or None)


def processed(req: pb.RegisterDerivativesRequest) -> d.Processed:
    return d.Processed(
        derivatives=tuple(d.Derivative(kind=x.kind, key=x.key, width=x.width, height=x.height, bytes=x.bytes,
                                       content_type=x.content_type) for x in req.derivatives),
        width=req.width, height=req.height, original_bytes=req.original_bytes, sha256=req.sha256,
        captured_at=from_timestamp(req.captured_at, req.HasField("captured_at")), camera=req.camera,
        original_etag=req.original_etag, original_version_id=req.original_version_id,
    )


def change(req: pb.UpdatePhotoRequest) -> d.PhotoChange:
    return d.PhotoChange(
        price_minor=req.price_minor if req.HasField("price_minor") else None,
        currency=req.currency if req.HasField("currency") else None,
        visibility=visibility(req.visibility, default=None),
    )


def new_faces(req: pb.IndexFacesRequest) -> list[f.NewFace]:
    f.check_face_count(len(req.faces))
    return [f.validate_face((x.x1, x.y1, x.x2, x.y2), x.score, x.embedding) for x in req.faces]
