"""CTC text recognition (PP-OCR rec) of one detected box, restricted to letters and digits.

The crop is warped upright from the rotated box, scaled to the model's 48-pixel height and
decoded greedily. The model reads some eighteen thousand characters; a bib holds only Latin
letters and digits, so the argmax runs over those classes alone (and the blank). A box that
is no text the model knows then scores low instead of reading as a stray Chinese character.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import onnxruntime as ort
from onnxmodels import RELEASING_RUN
from PIL import Image

from bibocr.detect import TextBox

HEIGHT = 48
MAX_WIDTH = 960  # 20:1, longer than any bib line
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz "


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float  # mean probability of the characters read


def crop(image: Image.Image, box: TextBox) -> Image.Image:
    width, height = max(1, round(box.width)), max(1, round(box.height))
    quad = [c for corner in box.corners() for c in corner]
    upright = image.transform((width, height), Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    target = min(MAX_WIDTH, max(HEIGHT // 4, round(HEIGHT * width / height)))
    return upright.resize((target, HEIGHT), Image.Resampling.BILINEAR)


@lru_cache(maxsize=4)
def allowed_classes(charset: tuple[str, ...]) -> np.ndarray:
    wanted = set(ALPHABET)
    return np.array([0] + [i for i, ch in enumerate(charset) if i and ch in wanted], dtype=np.int64)


def recognize(crops: list[Image.Image], session: ort.InferenceSession,
              charset: tuple[str, ...]) -> list[Line]:
    if not crops:
        return []
    width = max(c.width for c in crops)
    batch = np.zeros((len(crops), 3, HEIGHT, width), dtype=np.float32)  # 0 is mid-grey after scaling
    for i, c in enumerate(crops):
        arr = np.asarray(c.convert("RGB"), dtype=np.float32)[:, :, ::-1] / 127.5 - 1.0
        batch[i, :, :, : c.width] = arr.transpose(2, 0, 1)
    probs = session.run(None, {session.get_inputs()[0].name: batch}, RELEASING_RUN)[0]
    classes = allowed_classes(charset)
    return [decode(p[:, classes], classes, charset) for p in probs]


def decode(probs: np.ndarray, classes: np.ndarray, charset: tuple[str, ...]) -> Line:
    best = probs.argmax(axis=1)
    score = probs[np.arange(len(best)), best]
    chars, scores, previous = [], [], -1
    for b, s in zip(best, score, strict=True):
        if b != previous and b != 0:
            chars.append(charset[classes[b]])
            scores.append(float(s))
        previous = b
    return Line("".join(chars).strip(), float(np.mean(scores)) if scores else 0.0)
