"""SQL for faces, per-event face versions and opt-outs (schema ``photos``), inside a transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg2.extras import execute_values

from sidecar.face_domain import DIMENSIONS, FaceRows, NewFace, References, encode_embedding


class FaceStatements:
    def __init__(self, cur: Any) -> None:
        self._cur = cur

    # --- one photo's faces ---------------------------------------------------------

    def replace(self, photo_id: str, event_id: str, faces: Sequence[NewFace]) -> list[str]:
        """Delete the photo's faces and insert these; the new face ids, in order."""
        self._cur.execute("DELETE FROM faces WHERE photo_id = %s", (photo_id,))
        if not faces:
            return []
        rows = [(photo_id, event_id, *face.box, face.score, encode_embedding(face.embedding))
                for face in faces]
        # One statement for a crowd photo's faces; RETURNING keeps the VALUES order.
        inserted = execute_values(
            self._cur,
            "INSERT INTO faces (photo_id, event_id, x1, y1, x2, y2, score, embedding)"
            " VALUES %s RETURNING id::text AS id", rows,
            template="(%s::uuid, %s::uuid, %s, %s, %s, %s, %s, %s)", fetch=True)
        return [r["id"] for r in inserted]

    def mark_indexed(self, photo_id: str, face_count: int) -> dt.datetime:
        self._cur.execute(
            "UPDATE photos SET face_count = %s, faces_indexed_at = clock_timestamp() WHERE id = %s"
            " RETURNING faces_indexed_at", (face_count, photo_id))
        indexed_at: dt.datetime = self._cur.fetchone()["faces_indexed_at"]
        return indexed_at

    # --- per-event versions ------------------------------------------------------------

    def bump_version(self, event_id: str) -> int:
        self._cur.execute(
            "INSERT INTO face_event_versions (event_id, version) VALUES (%s, 1)"
            " ON CONFLICT (event_id) DO UPDATE SET version = face_event_versions.version + 1"
            " RETURNING version", (event_id,))
        version: int = self._cur.fetchone()["version"]
        return version

    def version(self, event_id: str) -> int:
        self._cur.execute("SELECT version FROM face_event_versions WHERE event_id = %s", (event_id,))
        row = self._cur.fetchone()
        return int(row["version"]) if row else 0

    def event_faces(self, event_id: str) -> FaceRows:
        """The version first, then the rows: rows newer than the version only cause one extra
        reload later, while rows older than it would never be noticed."""
        version = self.version(event_id)
        self._cur.execute(
            "SELECT id::text AS id, photo_id::text AS photo_id, embedding FROM faces"
            " WHERE event_id = %s", (event_id,))
        rows = self._cur.fetchall()
        # One buffer for all rows: decoding 10,000 embeddings one by one costs more than the query.
        # Stored rows were validated and normalised when written (IndexFaces).
        raw = b"".join(bytes(r["embedding"]) for r in rows)
        matrix = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(len(rows), DIMENSIONS)
        return FaceRows(version=version, face_ids=[r["id"] for r in rows],
                        photo_ids=[r["photo_id"] for r in rows], embeddings=matrix)

    # --- opt-outs ----------------------------------------------------------------------
    # Nothing here reads or writes a face: opt-outs are applied where faces are searched
    # (sidecar/face_index.py). The revision tells every sidecar instance that they changed.

    def opt_out_revision(self) -> int:
        self._cur.execute("SELECT revision FROM face_opt_out_revision")
        row = self._cur.fetchone()
        return int(row["revision"]) if row else 0

    def _bump_opt_out_revision(self) -> int:
        # One row: concurrent opt-outs take turns here, which also orders their revisions.
        self._cur.execute("UPDATE face_opt_out_revision SET revision = revision + 1 RETURNING revision")
        revision: int = self._cur.fetchone()["revision"]
        return revision

    def references(self) -> References:
        """The revision first, then the rows: rows newer than it only cause one more load later."""
        revision = self.opt_out_revision()
        self._cur.execute("SELECT user_id, revision, reference FROM face_opt_outs ORDER BY user_id")
        rows = self._cur.fetchall()
        raw = b"".join(bytes(r["reference"]) for r in rows)
        # Stored references were validated and normalised when saved.
        vectors = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(len(rows), DIMENSIONS)
        return References(revision=revision, keys=tuple((r["user_id"], int(r["revision"])) for r in rows),
                          vectors=vectors)

    def save_opt_out(self, user_id: str, reference: np.ndarray) -> bool:
        """Store the user's reference; False (and nothing written) when it is the one stored."""
        encoded = encode_embedding(reference)
        self._cur.execute("SELECT reference FROM face_opt_outs WHERE user_id = %s FOR UPDATE", (user_id,))
        row = self._cur.fetchone()
        if row is not None and bytes(row["reference"]) == encoded:
            return False
        revision = self._bump_opt_out_revision()
        self._cur.execute(
            "INSERT INTO face_opt_outs (user_id, reference, revision) VALUES (%s, %s, %s)"
            " ON CONFLICT (user_id) DO UPDATE SET reference = EXCLUDED.reference,"
            " revision = EXCLUDED.revision, opted_out_at = clock_timestamp()", (user_id, encoded, revision))
        return True

    def delete_opt_out(self, user_id: str) -> bool:
        """Drop the user's reference; False when there was none."""
        self._cur.execute("DELETE FROM face_opt_outs WHERE user_id = %s RETURNING user_id", (user_id,))
        if self._cur.fetchone() is None:
            return False
        self._bump_opt_out_revision()
        return True
