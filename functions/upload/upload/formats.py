"""Identify an upload's real format from its first bytes, never from its name or declared type."""

from __future__ import annotations

from upload.errors import ImageRejected

_TEXT_MARKERS = (b"<svg", b"<?xml", b"<!doctype", b"<html", b"<head", b"<body", b"{", b"[")


def sniff(head: bytes) -> str:
    """The Pillow format name of a file (JPEG, PNG, WEBP or GIF: the formats we decode) from its
    magic bytes, or ImageRejected with a reason a person can read. The decoder is told to use
    only that format's plugin, so a file that sniffs as JPEG never reaches, say, EPS or TIFF."""
    if not head:
        raise ImageRejected("the file is empty")
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    other = _known_unsupported(head)
    if other:
        raise ImageRejected(f"{other} files are not supported (send JPEG, PNG, WebP or GIF)")
    if _looks_like_text(head):
        lowered = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if b"<svg" in lowered or (lowered.startswith(b"<?xml") and b"svg" in lowered):
            kind = "an SVG document"
        elif lowered.startswith((b"<!doctype", b"<html", b"<head", b"<body")):
            kind = "an HTML document"
        else:
            kind = "text"
        raise ImageRejected(f"the file is not an image: it contains {kind}")
    raise ImageRejected("the file is not a recognised image format (send JPEG, PNG, WebP or GIF)")


def _known_unsupported(head: bytes) -> str | None:
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:2] == b"BM":
        return "BMP"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return "HEIC"
        if brand in (b"avif", b"avis"):
            return "AVIF"
    if head.startswith(b"%PDF"):
        return "PDF"
    return None


def _looks_like_text(head: bytes) -> bool:
    sample = head[:1024]
    if b"\x00" in sample:
        return False
    stripped = sample.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith(_TEXT_MARKERS):
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is still text.
        return exc.start >= len(sample) - 3
    return True
