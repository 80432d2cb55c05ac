"""Request rules of the photos API that need no I/O: bodies, upload plans."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from photostack.contract import CONTENT_TYPES, MAX_UPLOAD_BYTES, PUBLIC, VISIBILITIES

from photos import errors as e

MULTIPART_THRESHOLD = 16 * 1024 * 1024
PART_BYTES = 8 * 1024 * 1024


def _string(body: dict[str, Any], name: str, *, required: bool, max_len: int = 200) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise e.InvalidRequest(f"{name} is required", code="invalid_field")
        return None
    if not isinstance(value, str):
        raise e.InvalidRequest(f"{name} must be a string", code="invalid_field")
    if len(value) > max_len:
        raise e.InvalidRequest(f"{name} must be at most {max_len} characters", code="invalid_field")
    # A NUL cannot be stored in PostgreSQL text and a lone surrogate cannot be sent as UTF-8 (gRPC):
    # both would be a 500 later, so refuse control characters and surrogates here.
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise e.InvalidRequest(f"{name} must not contain control characters", code="invalid_field")
    return value


def _integer(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise e.InvalidRequest(f"{name} must be an integer", code="invalid_field")
    if not -(2**63) <= value < 2**63:  # what the gRPC int64 fields carry; beyond, a 500 later
        raise e.InvalidRequest(f"{name} is out of range", code="invalid_field")
    return value


def _visibility(body: dict[str, Any]) -> str | None:
    value = _string(body, "visibility", required=False)
    if value is not None and value not in VISIBILITIES:
        raise e.InvalidRequest("visibility must be public or private", code="invalid_field")
    return value


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise e.InvalidRequest("unknown fields: " + ", ".join(unknown), code="unknown_field")


@dataclass(frozen=True)
class EventInput:
    name: str
    date: str
    place: str
    visibility: str


def parse_event(body: dict[str, Any]) -> EventInput:
    _only(body, {"name", "date", "place", "visibility"})
    name = _string(body, "name", required=True)
    date = _string(body, "date", required=True, max_len=10)
    assert name is not None and date is not None
    return EventInput(
        name=name,
        date=date,
        place=_string(body, "place", required=False) or "",
        visibility=_visibility(body) or PUBLIC,
    )


@dataclass(frozen=True)
class PhotoPatch:
    price_minor: int | None
    currency: str | None
    visibility: str | None


def parse_patch(body: dict[str, Any]) -> PhotoPatch:
    _only(body, {"price_minor", "currency", "visibility"})
    patch = PhotoPatch(
        price_minor=_integer(body, "price_minor"),
        currency=_string(body, "currency", required=False, max_len=3),
        visibility=_visibility(body),
    )
    if patch == PhotoPatch(None, None, None):
        raise e.InvalidRequest(
            "nothing to change: give price_minor, currency or visibility", code="invalid_field"
        )
    return patch


@dataclass(frozen=True)
class UploadRequest:
    event_id: str
    content_type: str
    size_bytes: int

    @property
    def multipart(self) -> bool:
        return self.size_bytes > MULTIPART_THRESHOLD


def parse_upload(body: dict[str, Any]) -> UploadRequest:
    _only(body, {"event_id", "content_type", "size_bytes", "filename"})
    event_id = _string(body, "event_id", required=True, max_len=64)
    content_type = _string(body, "content_type", required=True, max_len=100)
    size = _integer(body, "size_bytes")
    assert event_id is not None and content_type is not None
    if content_type not in CONTENT_TYPES:
        raise e.UnsupportedContentType(
            "content_type must be one of " + ", ".join(CONTENT_TYPES), code="unsupported_content_type"
        )
    if size is None or size <= 0:
        raise e.InvalidRequest("size_bytes must be a positive integer", code="invalid_field")
    if size > MAX_UPLOAD_BYTES:
        raise e.TooLarge(
            f"uploads are limited to {MAX_UPLOAD_BYTES} bytes", code="upload_too_large"
        )
    return UploadRequest(event_id=event_id, content_type=content_type, size_bytes=size)


def part_sizes(size_bytes: int, part_bytes: int = PART_BYTES) -> list[int]:
    """The exact size of each part, so each presigned part URL can be bound to it."""
    count = math.ceil(size_bytes / part_bytes)
    return [min(part_bytes, size_bytes - i * part_bytes) for i in range(count)]


@dataclass(frozen=True)
class CompletedPart:
    part_number: int
    etag: str


def parse_completion(body: dict[str, Any]) -> tuple[str, list[CompletedPart]]:
    _only(body, {"upload_id", "parts"})
    upload_id = _string(body, "upload_id", required=True, max_len=1024)
    parts = body.get("parts")
    if not isinstance(parts, list) or not parts or len(parts) > 10_000:
        raise e.InvalidRequest("parts must be a non-empty list", code="invalid_field")
    parsed: list[CompletedPart] = []
    for item in parts:
        if not isinstance(item, dict):
            raise e.InvalidRequest("each part needs part_number and etag", code="invalid_field")
        number = _integer(item, "part_number")
        etag = _string(item, "etag", required=True)
        if number is None or number < 1 or not etag:
            raise e.InvalidRequest("each part needs part_number and etag", code="invalid_field")
        parsed.append(CompletedPart(number, etag))
    if [p.part_number for p in parsed] != sorted({p.part_number for p in parsed}):
        raise e.InvalidRequest("parts must be in ascending order without repeats", code="invalid_field")
    assert upload_id is not None
    return upload_id, parsed
