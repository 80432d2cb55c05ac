"""SQL for bib numbers (schema ``photos``, tables photo_bibs and photo_bib_scans), inside a transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from psycopg2.extras import execute_values

from sidecar.bib_domain import NewBib, StoredBib


def _stored(row: dict[str, Any]) -> StoredBib:
    return StoredBib(row["photo_id"], row["number"], float(row["confidence"]),
                     (float(row["x1"]), float(row["y1"]), float(row["x2"]), float(row["y2"])))


class BibStatements:
    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def replace(self, photo_id: str, event_id: str, bibs: Sequence[NewBib]) -> dt.datetime:
        """The photo's numbers become these (one per number), and the photo is recorded as read."""
        self._cur.execute("DELETE FROM photo_bibs WHERE photo_id = %s", (photo_id,))
        if bibs:
            execute_values(
                self._cur,
                "INSERT INTO photo_bibs (photo_id, event_id, number, confidence, x1, y1, x2, y2) VALUES %s",
                [(photo_id, event_id, b.number, b.confidence, *b.box) for b in bibs],
                template="(%s::uuid, %s::uuid, %s, %s, %s, %s, %s, %s)")
        self._cur.execute(
            "INSERT INTO photo_bib_scans (photo_id, bib_count) VALUES (%s, %s)"
            " ON CONFLICT (photo_id) DO UPDATE SET bib_count = EXCLUDED.bib_count,"
            " scanned_at = clock_timestamp() RETURNING scanned_at", (photo_id, len(bibs)))
        scanned_at: dt.datetime = self._cur.fetchone()["scanned_at"]
        return scanned_at

    def scanned_at(self, photo_id: str) -> dt.datetime | None:
        self._cur.execute("SELECT scanned_at FROM photo_bib_scans WHERE photo_id = %s", (photo_id,))
        row = self._cur.fetchone()
        return row["scanned_at"] if row else None

    def of_photo(self, photo_id: str) -> list[StoredBib]:
        self._cur.execute(
            "SELECT photo_id::text AS photo_id, number, confidence, x1, y1, x2, y2 FROM photo_bibs"
            " WHERE photo_id = %s ORDER BY confidence DESC, number", (photo_id,))
        return [_stored(r) for r in self._cur.fetchall()]

    def search(self, event_id: str, number: str, limit: int) -> list[StoredBib]:
        """The event's photos showing the number, surest reading first (photo id breaks ties,
        so that pages are stable)."""
        self._cur.execute(
            "SELECT photo_id::text AS photo_id, number, confidence, x1, y1, x2, y2 FROM photo_bibs"
            " WHERE event_id = %s AND number = %s ORDER BY confidence DESC, photo_id LIMIT %s",
            (event_id, number, limit))
        return [_stored(r) for r in self._cur.fetchall()]
