"""Request rules of the photos API, presenters and the gRPC→HTTP mapping (no I/O)."""

from __future__ import annotations

import grpc
import pytest
from photos import domain, presenters
from photos import errors as photos_errors
from photostack.discovery import NoInstances, ServiceResolver
from photostack.photo.v1 import photo_pb2 as pb
from photostack.rpc.status import to_api_error

pytestmark = pytest.mark.unit


def test_upload_requests_are_bounded() -> None:
    ok = domain.parse_upload({"event_id": "e", "content_type": "image/jpeg", "size_bytes": 1000})
    assert not ok.multipart
    big = domain.parse_upload({"event_id": "e", "content_type": "image/png", "size_bytes": 20 * 2**20})
    assert big.multipart
    with pytest.raises(photos_errors.UnsupportedContentType):
        domain.parse_upload({"event_id": "e", "content_type": "image/gif", "size_bytes": 1000})
    with pytest.raises(photos_errors.TooLarge):
        domain.parse_upload({"event_id": "e", "content_type": "image/jpeg", "size_bytes": 2**40})
    for body in (
        {"event_id": "e", "content_type": "image/jpeg"},
        {"event_id": "e", "content_type": "image/jpeg", "size_bytes": True},
        {"event_id": 3, "content_type": "image/jpeg", "size_bytes": 10},
        {"event_id": "e", "content_type": "image/jpeg", "size_bytes": 10, "acl": "public-read"},
    ):
        with pytest.raises(photos_errors.InvalidRequest):
            domain.parse_upload(body)


def test_part_sizes_cover_the_file_exactly() -> None:
    size = 3 * domain.PART_BYTES + 5
    parts = domain.part_sizes(size)
    assert sum(parts) == size and parts[-1] == 5 and len(parts) == 4
    assert domain.part_sizes(domain.PART_BYTES) == [domain.PART_BYTES]


def test_patch_and_completion_bodies() -> None:
    assert domain.parse_patch({"price_minor": 500, "currency": "EUR"}).price_minor == 500
    for body in ({}, {"price_minor": "5"}, {"price_minor": 1.5}, {"visibility": "hidden"}, {"owner_id": "x"}):
        with pytest.raises(photos_errors.InvalidRequest):
            domain.parse_patch(body)
    upload_id, parts = domain.parse_completion(
        {"upload_id": "u", "parts": [{"part_number": 1, "etag": "a"}, {"part_number": 2, "etag": "b"}]}
    )
    assert upload_id == "u" and [p.part_number for p in parts] == [1, 2]
    with pytest.raises(photos_errors.InvalidRequest):
        domain.parse_completion(
            {"upload_id": "u", "parts": [{"part_number": 2, "etag": "a"}, {"part_number": 1, "etag": "b"}]}
        )


def test_photo_json_never_exposes_the_original() -> None:
    p = pb.Photo(
        id="p",
        event_id="e",
        owner_id="o",
        status=pb.PHOTO_STATUS_READY,
        original_key="originals/e/p",
        visibility=pb.VISIBILITY_PUBLIC,
        derivatives=[pb.Derivative(kind="web", key="web/e/p.jpg", width=1, height=1, bytes=1)],
    )
    for viewer in ("o", "someone"):
        body = presenters.photo(p, lambda key: f"signed:{key}", viewer_id=viewer)
        assert "originals/" not in repr(body)
        assert body["derivatives"]["web"]["url"] == "signed:web/e/p.jpg"
    assert "sha256" not in presenters.photo(p, str, viewer_id="someone")


class _RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "detail"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 503),
        (grpc.StatusCode.INTERNAL, 500),
    ],
)
def test_grpc_status_maps_to_http(code: grpc.StatusCode, status: int) -> None:
    assert to_api_error(_RpcError(code), "photo").status == status


def test_an_unavailable_service_is_named_in_the_message() -> None:
    error = to_api_error(_RpcError(grpc.StatusCode.UNAVAILABLE), "ledger")
    assert (error.status, error.message, error.headers) == (
        503, "the ledger service is unavailable", {"Retry-After": "1"})


def test_static_discovery_without_consul() -> None:
    resolver = ServiceResolver("photo-sidecar", consul_addr="", static_addr="127.0.0.1:50051")
    assert resolver.pick() == "127.0.0.1:50051"
    with pytest.raises(NoInstances):
        resolver.pick(exclude=["127.0.0.1:50051"])


def test_presigned_urls_are_reused_only_while_they_have_half_their_life_left() -> None:
    from photos.storage import PresignedUrls

    now = [0.0]
    signed: list[str] = []

    def sign(key: str) -> str:
        signed.append(key)
        return f"{key}?sig={len(signed)}"

    urls = PresignedUrls(300, max_entries=2, clock=lambda: now[0])
    assert urls.get("a", sign) == urls.get("a", sign) == "a?sig=1"
    now[0] = 151.0
    assert urls.get("a", sign) == "a?sig=2"  # less than half its lifetime left: signed again
    urls.get("b", sign)
    urls.get("c", sign)  # bounded: "a" is evicted
    assert urls.get("a", sign) == "a?sig=5"


@pytest.mark.parametrize("name", ["Race\x00", "Race \ud800", "Tab\there"])
def test_text_with_a_nul_control_character_or_lone_surrogate_is_a_400(name: str) -> None:
    # Found by Schemathesis: a NUL in an event name reached PostgreSQL and answered 500.
    with pytest.raises(photos_errors.InvalidRequest) as caught:
        domain.parse_event({"name": name, "date": "2026-05-01"})
    assert caught.value.code == "invalid_field"
    assert domain.parse_event({"name": "Course 🏃‍♀️ été", "date": "2026-05-01"}).name == "Course 🏃‍♀️ été"


def test_an_integer_beyond_int64_is_a_400() -> None:
    # Found by Schemathesis: price_minor 13665424418475857674240 overflowed the gRPC int64 (500).
    for body in ({"price_minor": 2**63}, {"price_minor": -(2**63) - 1}):
        with pytest.raises(photos_errors.InvalidRequest):
            domain.parse_patch(body)
    assert domain.parse_patch({"price_minor": 2**63 - 1}).price_minor == 2**63 - 1
