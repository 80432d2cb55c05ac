"""The photo contract, spelled once: roles, uploads, statuses, derivative kinds, keys, bib
numbers, cursors.

``protos/photostack/photo/v1/photo.proto`` is the wire contract. The enum maps below give
the strings of the JSON API and the database for its ``Visibility`` and ``PhotoStatus`` numbers;
``tests/unit/test_contract.py`` checks them against the generated descriptors (every value,
both ways), so they cannot drift. They are written out rather than read from the descriptors
so that importing this module (every function does, through the config) costs no protobuf
import: the users function never loads the stubs. What the proto has no type for (roles,
content types, the size limit, derivative kinds, the original-key format, the bib-number
pattern, the sidecar's service name, the cursor encoding) is defined here and imported by the
functions, the layers and the sidecar; the same test fails when product code spells one of
them a second time.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # the enum types only; at run time the numbers are plain ints
    from photostack.photo.v1.photo_pb2 import PhotoStatus, Visibility

# --- roles -----------------------------------------------------------------------------

CUSTOMER = "customer"
PHOTOGRAPHER = "photographer"
ADMIN = "admin"
# Internal callers (a function acting for itself, not for a person). Only the sidecar knows
# it; no account and no access token ever holds it.
SERVICE = "service"

ROLES = (CUSTOMER, PHOTOGRAPHER, ADMIN)  # what an account, and so an access token, holds
SELF_SERVICE_ROLES = (CUSTOMER, PHOTOGRAPHER)  # what anyone may register as
CALLER_ROLES = (*ROLES, SERVICE)  # who may call the photo sidecar
PRIVILEGED_ROLES = (ADMIN, SERVICE)  # see and process every event and photo
EVENT_CREATORS = (PHOTOGRAPHER, ADMIN)
UPLOADERS = (PHOTOGRAPHER,)

# --- uploads ---------------------------------------------------------------------------

CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
# The upload function reads originals up to this by default (PHOTOSTACK_UPLOAD_MAX_BYTES,
# bounded by its 512 MB memory); the API and the sidecar refuse bigger reservations, which
# beats a photo that fails later.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024

ORIGINALS_PREFIX = "originals/"
_ID = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
ORIGINAL_KEY = re.compile(rf"{ORIGINALS_PREFIX}(?P<event_id>{_ID})/(?P<photo_id>{_ID})")


def original_key(event_id: str, photo_id: str) -> str:
    """Where a photo's original lives in the uploads bucket (``ORIGINAL_KEY`` parses it)."""
    return f"{ORIGINALS_PREFIX}{event_id}/{photo_id}"


def derivative_key(event_id: str, photo_id: str, size: str, fmt: str) -> str:
    return f"derivatives/{event_id}/{photo_id}/{size}.{fmt}"


# --- derivatives -----------------------------------------------------------------------
# A derivative kind is "<size>_<format>" (thumb_jpg, preview_webp, web_jpg ...).


def derivative_kind(size: str, fmt: str) -> str:
    return f"{size}_{fmt}"


THUMB = "thumb"
PREVIEW = "preview"
WEB = "web"
# The paywall: people who have not bought a photo get only these sizes (the small thumbnail
# and the watermarked preview); every other kind and the original: deny by default.
FREE_SIZES = (THUMB, PREVIEW)
# Preferred first; the bare size name is what photos registered before formats were added carry.
THUMB_KINDS = (derivative_kind(THUMB, "jpg"), derivative_kind(THUMB, "webp"), THUMB)
WEB_KINDS = (derivative_kind(WEB, "jpg"), derivative_kind(WEB, "webp"), WEB)

# --- bib numbers -----------------------------------------------------------------------
# A race bib's number: 1-6 digits with an optional one-letter prefix ("1234", "A123"), upper
# case, leading zeros kept. The OCR keeps only tokens like this, the sidecar stores and searches
# only these, and the API answers 400 to any other ?bib= before calling it.
_BIB_DIGITS = "[0-9]{1,6}"
BIB_NUMBER = re.compile(rf"^[A-Z]?{_BIB_DIGITS}$")
# What a client may write in ?bib=, the OpenAPI document's pattern: the API strips the value
# (str.strip) and upper-cases it (str.upper), so either case and surrounding whitespace; spelled
# out because JSON Schema patterns take no flags. The whitespace is str.strip's, which JSON
# Schema's (ECMA-262) \s is not; the letters are those whose str.upper() is one of A-Z (U+0131
# dotless i and U+017F long s besides a-z).
_STRIPPED = r"[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"
BIB_QUERY_PATTERN = rf"^{_STRIPPED}[A-Za-z\u0131\u017f]?{_BIB_DIGITS}{_STRIPPED}$"

# --- proto enums <-> the strings of the JSON API and the database ---------------------
# A string is its proto value's name without the prefix, lower case (VISIBILITY_PUBLIC ->
# "public"); 0 (UNSPECIFIED) has none.

PUBLIC = "public"
PRIVATE = "private"
VISIBILITY_TO_PB = cast("dict[str, Visibility]", {PUBLIC: 1, PRIVATE: 2})
VISIBILITY_FROM_PB: dict[int, str] = {v: k for k, v in VISIBILITY_TO_PB.items()}
VISIBILITIES = tuple(VISIBILITY_TO_PB)

PENDING = "pending"  # reserved, waiting for the upload and its processing
READY = "ready"  # derivatives registered
FAILED = "failed"  # processing failed; the photo carries the reason
STATUS_TO_PB = cast("dict[str, PhotoStatus]", {PENDING: 1, READY: 2, FAILED: 3})
STATUS_FROM_PB: dict[int, str] = {v: k for k, v in STATUS_TO_PB.items()}
STATUSES = tuple(STATUS_TO_PB)

# --- discovery -------------------------------------------------------------------------

SIDECAR_SERVICE = "photo-sidecar"  # the photo sidecar's name in Consul
SIDECAR_GRPC_SERVICE = "photostack.photo.v1.PhotoService"  # its gRPC service (health checks)

# --- cursors ---------------------------------------------------------------------------
# Opaque to clients: URL-safe base64 without padding of a short text that only the issuer
# reads (a keyset position, an offset). Every paginated list encodes its cursors this way.


class InvalidCursor(ValueError):
    """The cursor was not issued by us (or was altered); callers answer 400 invalid_cursor."""


def encode_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("invalid cursor") from exc
