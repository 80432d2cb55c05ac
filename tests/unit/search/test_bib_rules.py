"""Bib-number rules without models or I/O: which text is a bib, which queries the photos API and
the sidecar accept, what the sidecar accepts to store, and the text detector's connected
components and boxes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from bibocr.detect import TextBox, components, rotated_box
from bibocr.tokens import bib_tokens
from photos.bibs import parse_bib
from photos.errors import InvalidRequest

from sidecar import bib_domain as b
from sidecar.domain import InvalidArgument

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "tokens"), [
    ("1234", ["1234"]),
    ("No. 1234", ["1234"]),
    ("a123", ["A123"]),
    ("RUN 42 CITY", ["42"]),
    ("007", ["007"]),
    ("1234567", []),  # seven digits: not a bib
    ("12AB", []),     # letters after the digits
    ("AB12", []),     # two-letter prefix
    ("CITY MARATHON", []),
    ("", []),
])
def test_which_text_is_a_bib(text: str, tokens: list[str]) -> None:
    assert bib_tokens(text) == tokens


@pytest.mark.parametrize(("value", "number"), [
    ("1234", "1234"), (" a12 ", "A12"), ("0", "0"), ("123456", "123456"),
    ("1234567", None), ("", None), ("12-34", None), ("1' OR 1=1", None), ("١٢٣", None),
])
def test_queries_are_normalised_or_refused(value: str, number: str | None) -> None:
    if number is None:
        with pytest.raises(InvalidRequest):
            parse_bib(value)
        with pytest.raises(InvalidArgument):
            b.search_number(value)
    else:
        assert parse_bib(value) == number == b.search_number(value)


def test_the_sidecar_stores_only_well_formed_bibs() -> None:
    assert b.validate_bib("A12", 0.9, (1, 2, 3, 4)) == b.NewBib("A12", 0.9, (1, 2, 3, 4))
    for number, confidence, box in [
        ("a12", 0.9, (1, 2, 3, 4)),  # stored upper-case only
        ("12345678", 0.9, (1, 2, 3, 4)),
        ("1234\n", 0.9, (1, 2, 3, 4)),  # `$` alone would let a trailing newline through
        ("12", 1.5, (1, 2, 3, 4)),
        ("12", float("nan"), (1, 2, 3, 4)),
        ("12", 0.9, (5, 2, 3, 4)),  # x1 > x2
        ("12", 0.9, (1, 2, float("inf"), 4)),
    ]:
        with pytest.raises(InvalidArgument):
            b.validate_bib(number, confidence, box)
    with pytest.raises(InvalidArgument):
        b.check_bib_count(b.MAX_BIBS_PER_PHOTO + 1)


def test_one_reading_per_number_the_surest() -> None:
    kept = b.best_per_number([b.NewBib("12", 0.6, (0, 0, 1, 1)), b.NewBib("12", 0.9, (2, 2, 3, 3)),
                              b.NewBib("7", 0.7, (0, 0, 1, 1))])
    assert [(x.number, x.confidence) for x in kept] == [("12", 0.9), ("7", 0.7)]


def test_components_are_eight_connected() -> None:
    mask = np.zeros((8, 10), dtype=bool)
    mask[1, 1:4] = True
    mask[2, 4] = True      # touches the run above only diagonally: same component
    mask[5:7, 7:9] = True  # a separate block
    found = sorted(components(mask), key=lambda c: int(c[1].min()))
    assert len(found) == 2
    assert sorted(zip(found[0][0].tolist(), found[0][1].tolist(), strict=True)) == [
        (1, 1), (1, 2), (1, 3), (2, 4)]
    assert len(found[1][0]) == 4
    assert components(np.zeros((3, 3), dtype=bool)) == []


def test_a_tilted_text_region_gives_a_tilted_box_read_left_to_right() -> None:
    prob = np.zeros((200, 300), dtype=np.float32)
    angle = np.deg2rad(20)
    ux, uy = np.cos(angle), np.sin(angle)
    ys, xs = np.mgrid[0:200, 0:300]
    along = (xs - 150) * ux + (ys - 100) * uy
    across = -(xs - 150) * uy + (ys - 100) * ux
    prob[(np.abs(along) <= 60) & (np.abs(across) <= 10)] = 0.9
    ry, rx = np.nonzero(prob > 0.3)
    box = rotated_box(rx, ry, prob)
    assert isinstance(box, TextBox)
    assert box.ux > 0 and abs(np.rad2deg(np.arctan2(box.uy, box.ux)) - 20) < 1.5
    assert abs(box.cx - 150) < 1.5 and abs(box.cy - 100) < 1.5
    # DB predicts a shrunk region: the box is the region grown by the unclip distance.
    assert 121 < box.width < 121 + 2 * 25 and 21 < box.height < 21 + 2 * 25
    assert box.width > box.height


def test_a_single_tall_digit_is_not_read_sideways() -> None:
    prob = np.zeros((100, 100), dtype=np.float32)
    prob[20:80, 40:60] = 0.9  # taller than wide
    ry, rx = np.nonzero(prob > 0.3)
    box = rotated_box(rx, ry, prob)
    assert box is not None and abs(box.uy) < 1e-6 and box.ux == pytest.approx(1.0)
    assert box.height > box.width


def test_faint_or_tiny_regions_are_no_text() -> None:
    prob = np.zeros((50, 50), dtype=np.float32)
    prob[10:20, 10:30] = 0.35  # above the pixel threshold, below the box threshold
    ry, rx = np.nonzero(prob > 0.3)
    assert rotated_box(rx, ry, prob) is None
    assert rotated_box(np.array([1, 2]), np.array([1, 1]), prob) is None


def test_numpy_scalars_are_stored_as_plain_floats() -> None:
    """The service is called in-process with NumPy scalars too; psycopg2 cannot send those."""
    confidence: Any = np.float32(0.9)  # what a NumPy pipeline hands over, whatever the annotation says
    kept = b.validate_bib("12", confidence, (np.float64(1), np.float64(2), np.float64(3), np.float64(4)))
    assert type(kept.confidence) is float and all(type(v) is float for v in kept.box)
