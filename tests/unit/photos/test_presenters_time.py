"""The photos API's timestamps: the cached formatter gives exactly what protobuf's own conversion gave."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from photos import presenters
from photostack.photo.v1 import photo_pb2 as pb

pytestmark = pytest.mark.unit

SECONDS = [0, 1, 59, 951_782_400, 1_795_963_954, -1, -86_401, -62_135_596_800, 253_402_300_799]
NANOS = [0, 1, 999_999, 1_000_000, 123_456_789, 999_999_999]


@pytest.mark.parametrize("seconds", SECONDS)
@pytest.mark.parametrize("nanos", NANOS)
def test_same_text_as_protobuf(seconds: int, nanos: int) -> None:
    ts = Timestamp(seconds=seconds, nanos=nanos)
    expected = ts.ToDatetime().isoformat(timespec="milliseconds") + "Z"
    event = pb.Event(id="e")
    event.created_at.CopyFrom(ts)
    assert presenters.event(event)["created_at"] == expected


def test_unset_is_none() -> None:
    assert presenters.event(pb.Event(id="e"))["created_at"] is None
