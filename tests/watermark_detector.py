"""Finds the upload function's watermark in an image or in any crop of one (tests only).

The detector knows what the mark looks like (the overlay ``upload.watermark`` draws for an
image of a given size and text) but not where a crop came from: it correlates the crop's fine
detail with the pattern's at every offset (FFT) and reports how far the best match stands out
from all the others, in standard deviations. A marked preview or a crop of it stands out by
tens; the same picture without the mark stays under ~5.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from upload import watermark

FOUND = 12.0  # standard deviations: above this, the mark is there
ABSENT = 6.0  # below this, it is not


def _box_blur(a: np.ndarray, r: int) -> np.ndarray:
    k = 2 * r + 1
    c = np.pad(np.cumsum(np.cumsum(np.pad(a, r, mode="edge"), 0), 1), ((1, 0), (1, 0)))
    out: np.ndarray = (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)
    return out


def _detail(a: np.ndarray) -> np.ndarray:
    """High-pass: the image minus a 9x9 local mean, so that the photo's broad shapes do not count."""
    return a - _box_blur(a, 4)


def mark_strength(crop: Image.Image, text: str, size: tuple[int, int]) -> float:
    """How strongly ``crop`` (from anywhere in a marked image of ``size``) carries the mark of ``text``."""
    colour, alpha = watermark.overlay(watermark.clean_text(text), *size)
    pattern = _detail(np.asarray(alpha, dtype=np.float64) / 255
                      * (np.asarray(colour.convert("L"), dtype=np.float64) - 128))
    x = _detail(np.asarray(crop.convert("L"), dtype=np.float64))
    height, width = pattern.shape
    if x.shape[0] > height or x.shape[1] > width:
        raise ValueError(f"a crop of {crop.size} cannot come from an image of {size}")
    padded = np.zeros((height, width))
    padded[: x.shape[0], : x.shape[1]] = x - x.mean()
    corr = np.real(np.fft.ifft2(np.fft.fft2(pattern) * np.conj(np.fft.fft2(padded))))
    # Every (cyclic) offset: the true one stands out; with no mark, none does.
    return float((corr.max() - corr.mean()) / corr.std())
