"""Alignment math: the similarity fit, its inverse, and the warp onto the template."""

from __future__ import annotations

import math

import numpy as np
import pytest
from facerec.align import REFERENCE, SIZE, align, five_points, invert, similarity
from PIL import Image, ImageDraw

pytestmark = pytest.mark.unit


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def _known(scale: float, angle_deg: float, tx: float, ty: float) -> np.ndarray:
    a = scale * math.cos(math.radians(angle_deg))
    b = scale * math.sin(math.radians(angle_deg))
    return np.array([[a, -b, tx], [b, a, ty]])


def test_similarity_recovers_an_exact_transform() -> None:
    truth = _known(2.5, 17.0, 40.0, -12.0)
    src = np.array([[10.0, 20.0], [50.0, 22.0], [30.0, 40.0], [15.0, 60.0], [45.0, 61.0]])
    fitted = similarity(src, _apply(truth, src))
    np.testing.assert_allclose(fitted, truth, atol=1e-9)


def test_similarity_is_a_least_squares_fit_without_shear() -> None:
    rng = np.random.default_rng(3)
    src = REFERENCE * 3 + 100
    noisy = _apply(_known(1 / 3, -5.0, 0, 0), src) + rng.normal(0, 0.5, src.shape)
    fitted = similarity(src, noisy)
    a, b = fitted[0, 0], fitted[1, 0]
    # rotation + uniform scale: [[a, -b], [b, a]]
    assert fitted[0, 1] == pytest.approx(-b)
    assert fitted[1, 1] == pytest.approx(a)
    assert math.hypot(a, b) == pytest.approx(1 / 3, rel=0.02)
    assert np.abs(_apply(fitted, src) - noisy).max() < 2.0


def test_invert_undoes_the_transform() -> None:
    forward = _known(0.7, 33.0, 5.0, 9.0)
    points = np.array([[0.0, 0.0], [100.0, 50.0], [-20.0, 7.0]])
    np.testing.assert_allclose(_apply(invert(forward), _apply(forward, points)), points, atol=1e-9)


def test_five_points_takes_eye_centres_nose_and_mouth_corners() -> None:
    points = np.zeros((68, 2))
    points[36:42] = [[10, 10], [12, 10], [14, 10], [10, 12], [12, 12], [14, 12]]
    points[42:48] = [[30, 10]] * 6
    points[30] = [20, 20]
    points[48] = [12, 30]
    points[54] = [28, 30]
    np.testing.assert_allclose(five_points(points), [[12, 11], [30, 10], [20, 20], [12, 30], [28, 30]])


def test_align_puts_the_five_points_on_the_reference() -> None:
    # Landmarks of a face rotated by 20 degrees and scaled x3 in a larger picture.
    truth = _known(3.0, 20.0, 200.0, 150.0)
    where = _apply(truth, REFERENCE)
    image = Image.new("RGB", (600, 600), (0, 0, 0))
    draw = ImageDraw.Draw(image)
    for x, y in where:
        draw.ellipse((x - 6, y - 6, x + 6, y + 6), fill=(255, 255, 255))
    points68 = np.zeros((68, 2))
    points68[36:42] = where[0]
    points68[42:48] = where[1]
    points68[30] = where[2]
    points68[48] = where[3]
    points68[54] = where[4]
    aligned = np.asarray(align(image, points68).convert("L"))
    assert aligned.shape == (SIZE, SIZE)
    for x, y in REFERENCE:
        assert aligned[round(y), round(x)] > 200
    assert aligned[5, 5] == 0
