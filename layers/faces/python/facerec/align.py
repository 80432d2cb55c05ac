"""Five-point similarity alignment to the ArcFace 112x112 template.

The embedding model was trained on faces warped so that the eyes, nose tip and mouth
corners land on fixed reference points; a similarity transform (rotation, uniform scale,
translation: no shear, so the face keeps its proportions) fitted by least squares to the
five points does that.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIZE = 112
REFERENCE = np.array([
    [38.2946, 51.6963],  # left eye (in the image)
    [73.5318, 51.5014],  # right eye
    [56.0252, 71.7366],  # nose tip
    [41.5493, 92.3655],  # left mouth corner
    [70.7299, 92.2041],  # right mouth corner
])


def five_points(points68: np.ndarray) -> np.ndarray:
    return np.array([
        points68[36:42].mean(axis=0),
        points68[42:48].mean(axis=0),
        points68[30],
        points68[48],
        points68[54],
    ])


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 matrix [[a, -b, tx], [b, a, ty]] that maps src onto dst with the least squared error."""
    n = len(src)
    x, y = src[:, 0], src[:, 1]
    rows = np.zeros((2 * n, 4))
    rows[0::2] = np.column_stack([x, -y, np.ones(n), np.zeros(n)])
    rows[1::2] = np.column_stack([y, x, np.zeros(n), np.ones(n)])
    (a, b, tx, ty), *_ = np.linalg.lstsq(rows, dst.reshape(-1), rcond=None)
    return np.array([[a, -b, tx], [b, a, ty]])


def invert(matrix: np.ndarray) -> np.ndarray:
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def align(image: Image.Image, points68: np.ndarray) -> Image.Image:
    """The face warped onto the 112x112 template (RGB)."""
    forward = similarity(five_points(points68), REFERENCE)
    # Pillow's affine transform maps each output pixel back to the input, so it takes the inverse.
    backward = invert(forward)
    coefficients = tuple(float(v) for v in backward.reshape(-1))
    return image.convert("RGB").transform((SIZE, SIZE), Image.Transform.AFFINE, coefficients,
                                          resample=Image.Resampling.BILINEAR)
