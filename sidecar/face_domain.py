"""Face search rules and data, no I/O: embeddings on the wire, limits, thresholds, cursors.

Embeddings travel and rest as 512 float32 values, little-endian (2,048 bytes), unit length,
so cosine similarity is a dot product.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
from photostack import contract

from sidecar.domain import Caller, InvalidArgument, PermissionDenied
from sidecar.vector_index import DEFAULT_THRESHOLD, DIMENSIONS

EMBEDDING_BYTES = DIMENSIONS * 4
# Far more than a crowd photo holds; a bound on what one call may write.
MAX_FACES_PER_PHOTO = 200
# The lowest threshold a search may ask for. Different people scored at most 0.27 on the
# evaluation set, so below 0.30 results would be mostly strangers.
MIN_THRESHOLD = 0.30
# A face is withheld when it matches any opt-out reference at this similarity: the lowest any
# search may use, so no permitted search can reach it through that person.
OPT_OUT_MATCH = MIN_THRESHOLD
# Photos above the threshold considered per search before the visibility filter and paging.
MAX_CANDIDATES = 1000
_FLOAT32_LE = np.dtype("<f4")


@dataclass(frozen=True)
class NewFace:
    box: tuple[float, float, float, float]
    score: float
    embedding: np.ndarray  # float32, unit length


@dataclass(frozen=True)
class FaceRows:
    """An event's faces as stored, ready for the in-memory index."""

    version: int
    face_ids: list[str]
    photo_ids: list[str]
    embeddings: np.ndarray  # N x 512 float32


@dataclass(frozen=True)
class References:
    """Every opt-out reference at one revision of the opt-out table (bumped by every change).

    A key is (user id, revision at which that user's reference was stored): a reference that
    was replaced or dropped no longer has its key, so a matrix that applied it knows it must
    start again, and a key already applied is never applied twice."""

    revision: int
    keys: tuple[tuple[str, int], ...] = ()
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, DIMENSIONS), dtype=np.float32))

    def of(self, keys: Collection[tuple[str, int]]) -> np.ndarray:
        wanted = set(keys)
        rows = [i for i, key in enumerate(self.keys) if key in wanted]
        return self.vectors[rows]


def decode_embedding(raw: bytes, what: str = "embedding") -> np.ndarray:
    if len(raw) != EMBEDDING_BYTES:
        raise InvalidArgument(f"{what} must be {DIMENSIONS} float32 values ({EMBEDDING_BYTES} bytes), "
                              f"got {len(raw)} bytes")
    vector = np.frombuffer(raw, dtype=_FLOAT32_LE).astype(np.float32)
    if not np.isfinite(vector).all():
        raise InvalidArgument(f"{what} must be finite")
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        raise InvalidArgument(f"{what} must not be all zeros")
    return vector / norm


def encode_embedding(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=_FLOAT32_LE).tobytes()


def validate_face(box: tuple[float, float, float, float], score: float, embedding: bytes) -> NewFace:
    if not all(math.isfinite(v) and v >= 0 for v in box) or box[2] <= box[0] or box[3] <= box[1]:
        raise InvalidArgument("a face box must be x1 < x2, y1 < y2, non-negative")
    if not (math.isfinite(score) and 0.0 <= score <= 1.0):
        raise InvalidArgument("a face score must be between 0 and 1")
    return NewFace(box=box, score=score, embedding=decode_embedding(embedding, "a face embedding"))


def check_face_count(count: int) -> None:
    if count > MAX_FACES_PER_PHOTO:
        raise InvalidArgument(f"at most {MAX_FACES_PER_PHOTO} faces per photo")


def search_threshold(requested: float) -> float:
    if requested == 0:
        return DEFAULT_THRESHOLD
    if not (math.isfinite(requested) and MIN_THRESHOLD <= requested <= 1.0):
        raise InvalidArgument(f"threshold must be between {MIN_THRESHOLD} and 1 (0: default)")
    return float(requested)



def encode_offset(offset: int) -> str:
    return contract.encode_cursor(f"o:{offset}")


def decode_offset(cursor: str) -> int:
    """Search pages are positions in a ranking (not keyset positions): a face indexed between two
    page requests can shift later pages by a place. Good enough for "find me" browsing."""
    if not cursor:
        return 0
    try:
        kind, _, value = contract.decode_cursor(cursor).partition(":")
        offset = int(value)
    except ValueError as exc:  # contract.InvalidCursor among them
        raise InvalidArgument("invalid cursor") from exc
    if kind != "o" or not 0 <= offset < MAX_CANDIDATES:
        raise InvalidArgument("invalid cursor")
    return offset


def check_may_opt_out(caller: Caller) -> None:
    if caller.role == contract.SERVICE:
        raise PermissionDenied("only a person can opt out of face search")
