"""Image -> bib numbers: detect text lines, read each, keep the number-like tokens.

Each bib carries the confidence of the line it was read from times the detector's score for
the box, and the box in the image's pixels (axis-aligned bounds of the rotated box). A number
seen twice in one photo (two runners, or a bib read in two boxes) is kept once, at its best.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from bibocr.detect import detect_text
from bibocr.models import OcrModels
from bibocr.recognize import crop, recognize
from bibocr.tokens import bib_tokens

MIN_CONFIDENCE = 0.5
MAX_BOXES = 64  # a crowd shot has many lines; read the most confident ones
BATCH = 8


@dataclass(frozen=True)
class Bib:
    number: str
    confidence: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels


def load_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return ImageOps.exif_transpose(image).convert("RGB")


def bibs_in_image(image: Image.Image, models: OcrModels, max_side: int = 1536) -> list[Bib]:
    boxes = sorted(detect_text(image, models.det, max_side), key=lambda b: -b.score)[:MAX_BOXES]
    boxes.sort(key=lambda b: b.width / max(b.height, 1.0))  # similar widths batch with less padding
    found: dict[str, Bib] = {}
    for start in range(0, len(boxes), BATCH):
        chunk = boxes[start:start + BATCH]
        lines = recognize([crop(image, b) for b in chunk], models.rec, models.charset)
        for box, line in zip(chunk, lines, strict=True):
            confidence = line.confidence * box.score
            if confidence < MIN_CONFIDENCE:
                continue
            x1, y1, x2, y2 = box.bounds()
            for number in bib_tokens(line.text):
                if number not in found or found[number].confidence < confidence:
                    box_in_image = (max(0.0, x1), max(0.0, y1), min(float(image.width), x2),
                                    min(float(image.height), y2))
                    found[number] = Bib(number, round(confidence, 4), box_in_image)
    return sorted(found.values(), key=lambda b: -b.confidence)
