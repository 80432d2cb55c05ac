"""The real format comes from the bytes, not the name or the declared type."""

from __future__ import annotations

import pytest
from upload.errors import ImageRejected
from upload.formats import sniff

from tests.unit.upload.corpus import animated, encode, photo, webp

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("data", "fmt"), [
    (encode(photo(), "JPEG"), "JPEG"),
    (encode(photo(), "PNG"), "PNG"),
    (webp(), "WEBP"),
    (animated("GIF"), "GIF"),
])
def test_allowed_formats(data: bytes, fmt: str) -> None:
    assert sniff(data[:64]) == fmt


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
    (b"  <html><body>", "HTML"),
    (b"plain words \xc3", "text"),
    (b"%PDF-1.7\n%\xe2\xe3", "PDF"),
    (b"BM" + b"\x00" * 60, "BMP"),
    (b"\x00\x00\x00\x1cftypavif" + b"\x00" * 20, "AVIF"),
    (b"\x00\x01\x02\x03\x04", "not a recognised"),
])
def test_refused_with_a_readable_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        sniff(data)
    assert reason in caught.value.reason
