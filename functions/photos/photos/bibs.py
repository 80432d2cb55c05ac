"""`?bib=` on an event's photo list: the query's rules and the answer's shape, no I/O.

The sidecar checks the number again (it is the contract's owner); checking here too turns a
malformed value into a clear 400 before any call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from photostack.contract import BIB_NUMBER
from photostack.photo.v1 import photo_pb2 as pb

from photos import errors as e


def parse_bib(value: str) -> str:
    number = value.strip().upper()
    if not BIB_NUMBER.fullmatch(number):
        raise e.InvalidRequest("bib must be 1 to 6 digits, optionally after one letter (e.g. 1234 or A123)")
    return number


def bib(b: pb.Bib) -> dict[str, Any]:
    return {"number": b.number, "confidence": round(float(b.confidence), 4),
            "box": [round(float(v), 1) for v in (b.x1, b.y1, b.x2, b.y2)]}


def bib_page(found: pb.SearchBibsResponse, present: Callable[[pb.Photo], dict[str, Any]]) -> dict[str, Any]:
    """The list's own shape (`photos`, `next_cursor`), each photo with where its number was read."""
    return {
        "photos": [{**present(m.photo), "bib": bib(m.bib)} for m in found.matches],
        "next_cursor": found.next_cursor or None,
    }
