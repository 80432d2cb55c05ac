"""Conversions between the bib protobuf messages and the bib domain objects."""

from __future__ import annotations

from photostack.photo.v1 import photo_pb2 as pb

from sidecar import bib_domain as b


def new_bibs(req: pb.IndexBibsRequest) -> list[b.NewBib]:
    b.check_bib_count(len(req.bibs))
    return [b.validate_bib(x.number, x.confidence, (x.x1, x.y1, x.x2, x.y2)) for x in req.bibs]


def bib(x: b.StoredBib) -> pb.Bib:
    return pb.Bib(number=x.number, confidence=x.confidence,
                  x1=x.box[0], y1=x.box[1], x2=x.box[2], y2=x.box[3])
