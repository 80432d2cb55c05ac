"""Bib-number rules and data, no I/O: what a stored number looks like, limits, cursors."""

from __future__ import annotations

import math
from dataclasses import dataclass

from photostack.contract import BIB_NUMBER

from sidecar.domain import InvalidArgument

# More than any photo holds; a bound on what one call may write.
MAX_BIBS_PER_PHOTO = 100
# Photos considered per search before the visibility filter and paging.
MAX_CANDIDATES = 1000
MAX_COORDINATE = 100_000.0


@dataclass(frozen=True)
class NewBib:
    number: str
    confidence: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class StoredBib:
    photo_id: str
    number: str
    confidence: float
    box: tuple[float, float, float, float]


def search_number(value: str) -> str:
    """A searched number as stored (letters upper-cased); anything else is a bad request."""
    number = value.strip().upper()
    if not BIB_NUMBER.fullmatch(number):
        raise InvalidArgument("a bib number is 1 to 6 digits, optionally after one letter "
                              "(e.g. 1234 or A123)")
    return number


def validate_bib(number: str, confidence: float, box: tuple[float, float, float, float]) -> NewBib:
    if not BIB_NUMBER.fullmatch(number):
        raise InvalidArgument(f"not a bib number: {number[:20]!r}")
    if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
        raise InvalidArgument("a bib's confidence is between 0 and 1")
    in_range = all(math.isfinite(v) and 0.0 <= v <= MAX_COORDINATE for v in box)
    if not in_range or box[0] > box[2] or box[1] > box[3]:
        raise InvalidArgument("a bib's box is x1 <= x2, y1 <= y2 in pixels")
    # Plain floats: the service is also called in-process with NumPy scalars (the evaluation).
    x1, y1, x2, y2 = (float(v) for v in box)
    return NewBib(number, float(confidence), (x1, y1, x2, y2))


def best_per_number(bibs: list[NewBib]) -> list[NewBib]:
    """One reading per number (the surest): a photo either shows a number or it does not."""
    best: dict[str, NewBib] = {}
    for b in bibs:
        if b.number not in best or best[b.number].confidence < b.confidence:
            best[b.number] = b
    return sorted(best.values(), key=lambda b: (-b.confidence, b.number))


def check_bib_count(n: int) -> None:
    if n > MAX_BIBS_PER_PHOTO:
        raise InvalidArgument(f"at most {MAX_BIBS_PER_PHOTO} bibs per photo")
