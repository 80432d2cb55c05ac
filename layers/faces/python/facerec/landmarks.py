"""68-point facial landmarks (fr_landmark.onnx) inside a detected face box.

The model takes the box resized to 64x64 greyscale, px / 256, and returns 68 (x, y)
pairs normalised to that crop (the iBUG 300-W layout: 36-41 left eye, 42-47 right eye,
30 nose tip, 48 and 54 mouth corners).
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from PIL import Image

SIZE = 64


def crop_box(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """The face box as whole pixels, clipped to the frame (the model sees only real pixels)."""
    x1, y1, x2, y2 = box
    left, top = max(0, int(x1)), max(0, int(y1))
    right, bottom = min(width, round(x2)), min(height, round(y2))
    return left, top, max(right, left + 1), max(bottom, top + 1)


def landmarks(session: ort.InferenceSession, image: Image.Image,
              box: tuple[float, float, float, float]) -> np.ndarray:
    """68 x 2 landmark positions in pixels of `image`."""
    left, top, right, bottom = crop_box(box, *image.size)
    face = image.crop((left, top, right, bottom)).convert("L").resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(face, dtype=np.float32)[np.newaxis, np.newaxis] / 256.0
    (out,) = session.run(["output"], {"input": pixels})
    points = out.reshape(68, 2).astype(np.float64)
    return points * [right - left, bottom - top] + [left, top]
