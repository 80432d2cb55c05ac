"""Detector post-processing: non-maximum suppression and the padding of tight crops."""

from __future__ import annotations

import numpy as np
import pytest
from facerec.detect import INPUT_H, INPUT_W, nms, pad, to_input
from PIL import Image

pytestmark = pytest.mark.unit


def _boxes(*rows: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def test_overlapping_boxes_keep_the_best_one() -> None:
    boxes = _boxes((0, 0, 10, 10), (1, 1, 11, 11), (50, 50, 60, 60))
    scores = np.array([0.8, 0.9, 0.7], dtype=np.float32)
    assert nms(boxes, scores, 0.4) == [1, 2]


def test_boxes_below_the_iou_threshold_both_stay() -> None:
    # IoU of these two is 25 / 175 = 0.14
    boxes = _boxes((0, 0, 10, 10), (5, 5, 15, 15))
    assert nms(boxes, np.array([0.9, 0.8], dtype=np.float32), 0.4) == [0, 1]


def test_a_weaker_box_inside_a_face_is_dropped() -> None:
    # An eye-and-brow box inside the face: small IoU, but mostly covered.
    boxes = _boxes((0, 0, 100, 100), (10, 10, 45, 40))
    assert nms(boxes, np.array([0.99, 0.75], dtype=np.float32), 0.4) == [0]


def test_no_boxes_no_faces() -> None:
    assert nms(np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.float32), 0.4) == []


def test_results_come_best_first() -> None:
    boxes = _boxes((0, 0, 10, 10), (20, 0, 30, 10), (40, 0, 50, 10))
    assert nms(boxes, np.array([0.7, 0.95, 0.8], dtype=np.float32), 0.4) == [1, 2, 0]


def test_pad_adds_half_the_shorter_side_of_mid_grey() -> None:
    image = Image.new("L", (150, 100), 255)
    padded, border = pad(image)
    assert border == 50
    assert padded.size == (250, 200)
    assert padded.mode == "RGB"
    assert padded.getpixel((0, 0)) == (127, 127, 127)
    assert padded.getpixel((50, 50)) == (255, 255, 255)


def test_detector_input_is_normalised_chw() -> None:
    tensor = to_input(Image.new("RGB", (640, 480), (255, 127, 0)))
    assert tensor.shape == (1, 3, INPUT_H, INPUT_W)
    assert tensor.dtype == np.float32
    np.testing.assert_allclose(tensor[0, :, 0, 0], [1.0, 0.0, -127 / 128])
