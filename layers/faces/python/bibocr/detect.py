"""DB text detection (PP-OCR det): probability map -> rotated text boxes, in NumPy and Pillow.

The model gives, per pixel, the probability that it lies inside text. Pixels above THRESH are
grouped into 8-connected components (run-length union-find: a photo's text covers a few
thousand runs, not millions of pixels), each component becomes a rotated rectangle from its
second moments, and the rectangle is grown by DB's unclip distance (area * ratio / perimeter),
since the model is trained to predict a shrunk text region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
from onnxmodels import RELEASING_RUN
from PIL import Image

THRESH = 0.3
BOX_THRESH = 0.5
UNCLIP_RATIO = 1.6
MIN_SIDE = 3  # pixels of the probability map


@dataclass(frozen=True)
class TextBox:
    """A rotated rectangle in image pixels: centre, unit reading direction, width along it, height."""
    cx: float
    cy: float
    ux: float
    uy: float
    width: float
    height: float
    score: float

    def corners(self) -> list[tuple[float, float]]:
        """Top-left, bottom-left, bottom-right, top-right (the order Pillow's QUAD wants)."""
        hw, hh = self.width / 2, self.height / 2
        vx, vy = -self.uy, self.ux  # 90 degrees clockwise of u in image coordinates (y down)
        return [(self.cx - hw * self.ux - hh * vx, self.cy - hw * self.uy - hh * vy),
                (self.cx - hw * self.ux + hh * vx, self.cy - hw * self.uy + hh * vy),
                (self.cx + hw * self.ux + hh * vx, self.cy + hw * self.uy + hh * vy),
                (self.cx + hw * self.ux - hh * vx, self.cy + hw * self.uy - hh * vy)]

    def bounds(self) -> tuple[float, float, float, float]:
        xs, ys = zip(*self.corners(), strict=True)
        return float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))


def detector_input(image: Image.Image, max_side: int) -> tuple[np.ndarray, float, float]:
    """NCHW float32 input (BGR, as PaddleOCR trained it, scaled to [-1, 1]) and the x/y scales."""
    w, h = image.size
    scale = min(1.0, max_side / max(w, h))
    nw, nh = (max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32))
    arr = np.asarray(image.convert("RGB").resize((nw, nh), Image.Resampling.BILINEAR), dtype=np.float32)
    arr = (arr[:, :, ::-1] / 127.5 - 1.0).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(arr), w / nw, h / nh


def detect_text(image: Image.Image, session: ort.InferenceSession, max_side: int = 1536) -> list[TextBox]:
    tensor, sx, sy = detector_input(image, max_side)
    prob = session.run(None, {session.get_inputs()[0].name: tensor}, RELEASING_RUN)[0][0, 0]
    boxes = []
    for ys, xs in components(prob > THRESH):
        box = rotated_box(xs, ys, prob)
        if box is not None:
            boxes.append(TextBox(box.cx * sx, box.cy * sy, box.ux * sx, box.uy * sy,
                                 box.width * float(np.hypot(box.ux * sx, box.uy * sy)),
                                 box.height * float(np.hypot(box.uy * sx, box.ux * sy)), box.score))
    return [_unit(b) for b in boxes]


def _unit(b: TextBox) -> TextBox:
    # The scaling above may leave the direction non-unit when sx != sy; renormalise it.
    n = float(np.hypot(b.ux, b.uy)) or 1.0
    return TextBox(b.cx, b.cy, b.ux / n, b.uy / n, b.width, b.height, b.score)


def rotated_box(xs: np.ndarray, ys: np.ndarray, prob: np.ndarray) -> TextBox | None:
    if len(xs) < MIN_SIDE * MIN_SIDE:
        return None
    score = float(prob[ys, xs].mean())
    if score < BOX_THRESH:
        return None
    px, py = xs.astype(np.float64), ys.astype(np.float64)
    cx, cy = px.mean(), py.mean()
    cov = np.cov(np.stack([px - cx, py - cy]))
    _, vectors = np.linalg.eigh(cov)
    # Of the two axes, the one nearer horizontal is the reading direction: bibs are upright
    # give or take 45 degrees, and a single tall digit must not be read sideways.
    a, b = vectors[:, 0], vectors[:, 1]
    u = a if abs(a[0]) >= abs(b[0]) else b
    if u[0] < 0:
        u = -u
    along = (px - cx) * u[0] + (py - cy) * u[1]
    across = (px - cx) * -u[1] + (py - cy) * u[0]
    lo_a, hi_a, lo_c, hi_c = along.min(), along.max() + 1, across.min(), across.max() + 1
    width, height = hi_a - lo_a, hi_c - lo_c
    if min(width, height) < MIN_SIDE:
        return None
    distance = width * height * UNCLIP_RATIO / (2 * (width + height))
    mid_a, mid_c = (lo_a + hi_a) / 2 - 0.5, (lo_c + hi_c) / 2 - 0.5
    return TextBox(cx + mid_a * u[0] - mid_c * u[1], cy + mid_a * u[1] + mid_c * u[0],
                   float(u[0]), float(u[1]), width + 2 * distance, height + 2 * distance, score)


def components(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """8-connected components of a boolean mask, as (rows, columns) index arrays."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    rows_s, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # same row order: np.nonzero scans row-major
    n = len(starts)
    if n == 0:
        return []
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_first = np.searchsorted(rows_s, np.arange(mask.shape[0] + 1))
    for r in range(1, mask.shape[0]):
        a0, a1 = row_first[r - 1], row_first[r]  # runs on the row above
        b0, b1 = row_first[r], row_first[r + 1]
        if a0 == a1 or b0 == b1:
            continue
        j = a0
        for i in range(b0, b1):
            # Skip runs above that end before this one starts (8-connectivity: diagonal touch counts).
            while j < a1 and ends[j] < starts[i]:
                j += 1
            k = j
            while k < a1 and starts[k] <= ends[i]:
                ri, rk = find(i), find(k)
                if ri != rk:
                    parent[ri] = rk
                k += 1
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        idx = np.array(members)
        lengths = ends[idx] - starts[idx]
        ys = np.repeat(rows_s[idx], lengths)
        xs = np.concatenate([np.arange(s, e) for s, e in zip(starts[idx], ends[idx], strict=True)])
        out.append((ys, xs))
    return out
