"""A selfie from a request body to one face embedding; the image itself is never stored.

The body carries the image as base64 in JSON (``{"image_base64": "..."}``): API Gateway and
Chalice pass JSON through untouched, where raw binary bodies need per-API media-type setup.
The face models (ONNX, in the faces layer) are imported on first use, so the other routes of
this function never pay for loading them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from photos import errors as e

MAX_SELFIE_BYTES = 5 * 1024 * 1024
# The JSON body around it: base64 is 4/3 of the bytes, plus a little for the rest.
MAX_BODY_BYTES = MAX_SELFIE_BYTES * 4 // 3 + 16 * 1024
# A selfie needs no more pixels than a phone takes (the pipeline scales down to 2048 anyway).
MAX_SELFIE_PIXELS = 50_000_000


def selfie_bytes(body: dict[str, Any]) -> bytes:
    raw = body.get("image_base64")
    if not isinstance(raw, str) or not raw.strip():
        raise e.InvalidRequest("image_base64 is required: the selfie, base64-encoded (JPEG, PNG or WebP)",
                               code="invalid_image")
    if raw.startswith("data:"):  # a data URL as a browser's FileReader gives it
        raw = raw.partition(",")[2]
    if len(raw) > MAX_SELFIE_BYTES * 4 // 3 + 4:  # before decoding it
        raise e.TooLarge(f"the selfie is larger than {MAX_SELFIE_BYTES // 2**20} MiB",
                         code="image_too_large")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise e.InvalidRequest("image_base64 is not valid base64", code="invalid_image") from exc
    if not data:
        raise e.InvalidRequest("the selfie is empty", code="invalid_image")
    if len(data) > MAX_SELFIE_BYTES:
        raise e.TooLarge(f"the selfie is larger than {MAX_SELFIE_BYTES // 2**20} MiB",
                         code="image_too_large")
    return data


def embedding_of(data: bytes) -> bytes:
    """The one face of the selfie as 512 float32 little-endian bytes; 4xx for no face, several
    faces, a non-image or one too large (the errors of ``facerec.errors``)."""
    from facerec.models import get_models
    from facerec.pipeline import load_image, single_face

    face = single_face(load_image(data, max_pixels=MAX_SELFIE_PIXELS), get_models())
    return bytes(face.embedding.astype("<f4").tobytes())
