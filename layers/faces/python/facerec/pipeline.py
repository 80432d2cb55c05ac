"""From image bytes to faces: decode safely, detect, locate landmarks, align, embed.

    faces_in_image(image)   every face in a photo (indexing a web derivative)
    single_face(image)      exactly one face, or a clear error (a search selfie)
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facerec.align import align
from facerec.detect import find_faces
from facerec.embed import embed
from facerec.errors import ImageTooLarge, NoFaceFound, NotAnImage, SeveralFacesFound
from facerec.landmarks import landmarks
from facerec.models import FaceModels, get_models

FORMATS = ("JPEG", "PNG", "WEBP")
# Declared pixels we agree to decode: the web derivatives are a few megapixels, a phone
# selfie at most ~50 MP; beyond that is a decompression bomb, not a photo.
MAX_PIXELS = 50_000_000
# Landmarks and alignment need no more than this; JPEG decodes straight to it (DCT scaling).
WORKING_LONG_EDGE = 2048
# Faces smaller than this (shorter box side, pixels) give embeddings too noisy to match.
MIN_FACE_PX = 20


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the decoded, upright image
    score: float  # detector confidence
    embedding: np.ndarray  # float32, 512, unit length


def load_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode JPEG/PNG/WebP bytes into an upright RGB image, refusing non-images and bombs
    before any pixel is decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError as exc:
            raise ImageTooLarge(f"image is larger than {max_pixels} pixels") from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise NotAnImage("not a JPEG, PNG or WebP image") from exc
        width, height = opened.size
        if width * height > max_pixels:
            raise ImageTooLarge(f"image is {width}x{height}; at most {max_pixels} pixels are accepted")
        try:
            opened.draft("RGB", (WORKING_LONG_EDGE, WORKING_LONG_EDGE))
            opened.load()
            image: Image.Image = ImageOps.exif_transpose(opened) or opened
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ImageTooLarge(f"image is larger than {max_pixels} pixels") from exc
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise NotAnImage("the image data is damaged or truncated") from exc
    image = image.convert("RGB")
    if max(image.size) > WORKING_LONG_EDGE:
        image.thumbnail((WORKING_LONG_EDGE, WORKING_LONG_EDGE), Image.Resampling.BILINEAR)
    return image


def faces_in_image(image: Image.Image, models: FaceModels | None = None, *,
                   min_face_px: int = MIN_FACE_PX) -> list[Face]:
    """Every face found, most confident first."""
    models = models or get_models()
    image = image.convert("RGB")
    frame, offset, detections = find_faces(models.detector, image)
    width, height = image.size
    found = []
    for detection in detections:
        x1, y1, x2, y2 = detection.box
        if min(x2 - x1, y2 - y1) < min_face_px:
            continue
        points = landmarks(models.landmarks, frame, detection.box)
        vector = embed(models.feature, align(frame, points))
        box = (max(0.0, x1 - offset), max(0.0, y1 - offset),
               min(float(width), x2 - offset), min(float(height), y2 - offset))
        found.append(Face(box=box, score=detection.score, embedding=vector))
    return found


def single_face(image: Image.Image, models: FaceModels | None = None) -> Face:
    """The one face of a selfie; zero or several faces is the caller's to fix."""
    faces = faces_in_image(image, models)
    if not faces:
        raise NoFaceFound("no face found in the image: use a photo where your face is clearly visible")
    if len(faces) > 1:
        raise SeveralFacesFound(f"several faces ({len(faces)}) found in the image: "
                                "use a photo of only your face")
    return faces[0]
