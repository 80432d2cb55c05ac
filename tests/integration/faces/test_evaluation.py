"""The evaluation set through the real models: every selfie finds its person first, the
threshold separates same from different people, and every group photo yields faces."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from infra.eval_faces import Indexed, Report, evaluate
from sidecar.vector_index import DEFAULT_THRESHOLD

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(indexed: list[Indexed]) -> Report:
    return evaluate(indexed, DEFAULT_THRESHOLD)


def test_rank1_is_perfect_for_every_choice_of_selfie(report: Report) -> None:
    assert report.queries == 40
    assert report.failures == []
    assert report.rank1 == 1.0


def test_the_threshold_separates_same_and_different_people(report: Report) -> None:
    assert min(report.same) >= DEFAULT_THRESHOLD, min(report.same)
    assert max(report.different) < DEFAULT_THRESHOLD, max(report.different)


def test_every_crop_gives_exactly_one_face(indexed: list[Indexed]) -> None:
    counts = {i.photo.photo_id: len(i.faces) for i in indexed if i.photo.person is not None}
    assert len(counts) == 40
    assert {k: v for k, v in counts.items() if v != 1} == {}


def test_every_group_photo_yields_faces(report: Report) -> None:
    assert len(report.group_faces) == 5
    assert all(n >= 3 for n in report.group_faces.values()), report.group_faces
    # Each selfie finds some of the group photos its person is in.
    assert report.groups_matched >= report.queries


def test_faces_have_boxes_inside_the_photo_and_unit_embeddings(indexed: list[Indexed]) -> None:
    group = next(i for i in indexed if i.photo.photo_id == "groups/bbt4.jpg")
    width, height = Image.open(io.BytesIO(group.photo.data)).size
    for face in group.faces:
        x1, y1, x2, y2 = face.box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert face.score >= 0.65
        assert face.embedding.dtype == np.float32 and face.embedding.shape == (512,)
        assert abs(float(np.linalg.norm(face.embedding)) - 1) < 1e-5
