"""Face detection with UltraFace RFB-320 (fr_detect.onnx).

The model takes the whole frame squeezed to 320x240 RGB, (px - 127) / 128, and returns
4420 candidate boxes already decoded to normalised x1, y1, x2, y2 with softmaxed scores;
we keep confident ones and drop overlaps with greedy IoU non-maximum suppression.

The detector was trained on faces with some context around them: on a tight crop (the
face fills the frame, as in many selfies and profile pictures) it finds nothing. When a
frame gives no face we look again with a border of about half the face height around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

INPUT_W, INPUT_H = 320, 240
CONFIDENCE = 0.65
NMS_IOU = 0.4
# A weaker box lying mostly inside a stronger one is a face part (an eye and brow, a cheek)
# found as a face, never a second face: drop it when this share of its area is covered.
CONTAINED = 0.5
# Border added on every side of a frame that gave no face, as a share of its shorter side
# (on a tight crop the face is about as tall as the frame).
RETRY_PADDING = 0.5
# A face this large relative to the frame (either side) means a tight crop: the detector's
# box is then poor (landmarks and the embedding suffer), so we detect again on a padded frame.
TIGHT = 0.5


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the frame given
    score: float


def to_input(image: Image.Image) -> np.ndarray:
    resized = image.convert("RGB").resize((INPUT_W, INPUT_H), Image.Resampling.BILINEAR)
    pixels = (np.asarray(resized, dtype=np.float32) - 127.0) / 128.0
    return pixels.transpose(2, 0, 1)[np.newaxis]


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
        contained: float = CONTAINED) -> list[int]:
    """Indices of the boxes kept, best score first. A box goes when it overlaps a kept one by
    IoU > `iou_threshold`, or when a kept one covers `contained` or more of its own area."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        w = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        inter = w * h
        union = areas[best] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        covered = np.divide(inter, areas[rest], out=np.ones_like(inter), where=areas[rest] > 0)
        order = rest[(iou <= iou_threshold) & (covered < contained)]
    return keep


def detect(session: ort.InferenceSession, image: Image.Image, *, confidence: float = CONFIDENCE,
           iou_threshold: float = NMS_IOU) -> list[Detection]:
    scores, boxes = session.run(["scores", "boxes"], {"input": to_input(image)})
    face_scores = scores[0, :, 1]
    confident = face_scores >= confidence
    candidates = boxes[0][confident]
    candidate_scores = face_scores[confident]
    width, height = image.size
    scale = np.array([width, height, width, height], dtype=np.float32)
    found = []
    for i in nms(candidates, candidate_scores, iou_threshold):
        x1, y1, x2, y2 = (float(v) for v in candidates[i] * scale)
        if x2 - x1 > 1 and y2 - y1 > 1:
            found.append(Detection((x1, y1, x2, y2), float(candidate_scores[i])))
    return found


def pad(image: Image.Image, share: float = RETRY_PADDING) -> tuple[Image.Image, int]:
    """The frame with a border of `share` x its shorter side on every side, and that border in pixels."""
    border = max(1, round(min(image.size) * share))
    # Mid-grey is what the model's normalisation maps to zero: the border carries no signal.
    return ImageOps.expand(image.convert("RGB"), border=border, fill=(127, 127, 127)), border


def find_faces(session: ort.InferenceSession, image: Image.Image) -> tuple[Image.Image, int, list[Detection]]:
    """Detections and the frame they refer to: `image` itself (border 0), or `image` padded by
    `border` pixels when it gave no face or only a face that fills it."""
    found = detect(session, image)
    width, height = image.size
    tight = any(d.box[2] - d.box[0] > TIGHT * width or d.box[3] - d.box[1] > TIGHT * height for d in found)
    if found and not tight:
        return image, 0, found
    padded, border = pad(image)
    retried = detect(session, padded)
    if retried:
        return padded, border, retried
    return image, 0, found
