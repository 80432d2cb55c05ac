"""SQL for faces, per-event face versions and opt-outs (schema ``photos``), inside a transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from psycopg2.extras import execute_values

from sidecar.face_domain import DIMENSIONS, FaceRows, NewFace, decode_embedding, encode_embedding

# Rows read at once when scanning every face (recognising a user who just opted out).
SCAN_BATCH = 5000


class FaceStatements:
    def __init__(self, cur: Any) -> None:
        self._cur = cur

    # --- one photo's faces ---------------------------------------------------------

    def replace(self, photo_id: str, event_id: str, faces: Sequence[NewFace],
                subjects: Sequence[str | None]) -> list[str]:
        """Delete the photo's faces and insert these; the new face ids, in order."""
        self._cur.execute("DELETE FROM faces WHERE photo_id = %s", (photo_id,))
        if not faces:
            return []
        rows = [(photo_id, event_id, *face.box, face.score, encode_embedding(face.embedding), subject)
                for face, subject in zip(faces, subjects, strict=True)]
        # One statement for a crowd photo's faces; RETURNING keeps the VALUES order.
        inserted = execute_values(
            self._cur,
            "INSERT INTO faces (photo_id, event_id, x1, y1, x2, y2, score, embedding, subject_id)"
            " VALUES %s RETURNING id::text AS id", rows,
            template="(%s::uuid, %s::uuid, %s, %s, %s, %s, %s, %s, %s)", fetch=True)
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
            "SELECT id::text AS id, photo_id::text AS photo_id, embedding, subject_id FROM faces"
            " WHERE event_id = %s", (event_id,))
        rows = self._cur.fetchall()
        # One buffer for all rows: decoding 10,000 embeddings one by one costs more than the query.
        # Stored rows were validated and normalised when written (IndexFaces).
        raw = b"".join(bytes(r["embedding"]) for r in rows)
        matrix = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(len(rows), DIMENSIONS)
        return FaceRows(version=version, face_ids=[r["id"] for r in rows],
                        photo_ids=[r["photo_id"] for r in rows], embeddings=matrix,
                        subjects=[r["subject_id"] for r in rows])

    # --- opt-outs ----------------------------------------------------------------------

    def opt_out_references(self) -> list[tuple[str, np.ndarray]]:
        self._cur.execute("SELECT user_id, reference FROM face_opt_outs ORDER BY user_id")
        return [(r["user_id"], decode_embedding(bytes(r["reference"]))) for r in self._cur.fetchall()]

    def opted_out_users(self, except_user: str) -> list[str]:
        self._cur.execute("SELECT user_id FROM face_opt_outs WHERE user_id <> %s", (except_user,))
        return [r["user_id"] for r in self._cur.fetchall()]

    def is_opted_out(self, user_id: str) -> bool:
        self._cur.execute("SELECT 1 FROM face_opt_outs WHERE user_id = %s", (user_id,))
        return self._cur.fetchone() is not None

    def save_opt_out(self, user_id: str, reference: np.ndarray) -> None:
        self._cur.execute(
            "INSERT INTO face_opt_outs (user_id, reference) VALUES (%s, %s)"
            " ON CONFLICT (user_id) DO UPDATE SET reference = EXCLUDED.reference,"
            " opted_out_at = clock_timestamp()", (user_id, encode_embedding(reference)))

    def delete_opt_out(self, user_id: str) -> None:
        self._cur.execute("DELETE FROM face_opt_outs WHERE user_id = %s", (user_id,))

    def release_subject(self, user_id: str) -> set[str]:
        """Stop withholding the user's faces; the events touched."""
        self._cur.execute("UPDATE faces SET subject_id = NULL WHERE subject_id = %s"
                          " RETURNING event_id::text AS event_id", (user_id,))
        return {r["event_id"] for r in self._cur.fetchall()}

    def unlabelled_faces(self) -> Iterator[tuple[list[str], list[str], np.ndarray]]:
        """(face ids, event ids, embeddings) of every face not yet withheld, in batches."""
        after = "00000000-0000-0000-0000-000000000000"
        while True:
            self._cur.execute(
                "SELECT id::text AS id, event_id::text AS event_id, embedding FROM faces"
                " WHERE subject_id IS NULL AND id > %s::uuid ORDER BY id LIMIT %s", (after, SCAN_BATCH))
            rows = self._cur.fetchall()
            if not rows:
                return
            matrix = np.stack([decode_embedding(bytes(r["embedding"])) for r in rows])
            yield [r["id"] for r in rows], [r["event_id"] for r in rows], matrix
            after = rows[-1]["id"]

    def withhold(self, face_ids: list[str], user_id: str) -> None:
        self._cur.execute("UPDATE faces SET subject_id = %s WHERE id = ANY(%s::uuid[])", (user_id, face_ids))

    def withheld_count(self, user_id: str) -> int:
        self._cur.execute("SELECT count(*) AS n FROM faces WHERE subject_id = %s", (user_id,))
        return int(self._cur.fetchone()["n"])
