"""SQL for events and photos on schema ``photos``; hands out domain objects.

Every transaction runs under ``statement_timeout`` set from the call's deadline,
so a slow query ends with the call instead of holding a pooled connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors
from photostack import contract
from photostack.db import Database, dict_cursor

from sidecar import deadline
from sidecar.bib_store import BibStatements
from sidecar.domain import Derivative, Event, NewEvent, Photo, Processed
from sidecar.face_store import FaceStatements

_PHOTO_COLUMNS = (
    "p.id::text AS id, p.event_id::text AS event_id, p.owner_id, p.status, p.original_key, p.content_type,"
    " p.declared_bytes, p.width, p.height, p.original_bytes, p.sha256, p.captured_at, p.camera,"
    " p.price_minor, p.currency, p.visibility, p.failure_reason, p.created_at, p.updated_at,"
    " p.face_count, p.faces_indexed_at, p.original_etag, p.original_version_id, p.unlisted_at,"
    " e.visibility AS event_visibility"
)
_EVENT_COLUMNS = "id::text AS id, owner_id, name, event_date, place, visibility, created_at"

# Entitlements are the transactions domain's: this is the read-only view its migrations create
# (infra/db/transactions/0002), the whole of what the sidecar reads from that schema.
_ENTITLEMENTS = "transactions.photo_entitlements"
# Deleting a photo and selling it serialise on this per-photo advisory lock, taken exclusively
# here and shared by every order that includes the photo (functions/transactions/transactions/
# repository.py uses the same expression). Whichever commits first, the other sees it: a delete
# that went first makes the order's catalog check fail; an order that went first makes the
# delete an unlisting. So a photo is never deleted under a buyer who has paid for it.
SALE_LOCK_SQL = "hashtextextended('photostack:photo-sale:' || %s, 0)"


def _event(row: dict[str, Any]) -> Event:
    return Event(id=row["id"], owner_id=row["owner_id"], name=row["name"],
                 date=row["event_date"].isoformat(), place=row["place"], visibility=row["visibility"],
                 created_at=row["created_at"])


def _photo(row: dict[str, Any], derivatives: list[Derivative]) -> Photo:
    fields = {k: v for k, v in row.items() if k in Photo.__dataclass_fields__}
    return Photo(**fields, derivatives=tuple(derivatives))


class Transaction:
    """The statements of one database transaction."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur
        self.faces = FaceStatements(cur)
        self.bibs = BibStatements(cur)

    # events
    def insert_event(self, owner_id: str, new: NewEvent) -> Event | None:
        """The new event, or None when the owner already used this idempotency key."""
        self._cur.execute(
            "INSERT INTO events (owner_id, name, event_date, place, visibility, idempotency_key)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING " + _EVENT_COLUMNS,
            (owner_id, new.name, new.date, new.place, new.visibility, new.idempotency_key),
        )
        row = self._cur.fetchone()
        return _event(row) if row else None

    def event_by_idempotency_key(self, owner_id: str, key: str) -> Event | None:
        self._cur.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE owner_id = %s AND idempotency_key = %s",
                          (owner_id, key))
        row = self._cur.fetchone()
        return _event(row) if row else None

    def get_event(self, event_id: str) -> Event | None:
        self._cur.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = %s", (event_id,))
        row = self._cur.fetchone()
        return _event(row) if row else None

    def list_events(self, viewer_id: str, *, mine_only: bool, everything: bool,
                    after: tuple[dt.datetime, str] | None, limit: int) -> list[Event]:
        where = ["owner_id = %(viewer)s"] if mine_only else (
            [] if everything else ["(visibility = 'public' OR owner_id = %(viewer)s)"])
        params: dict[str, Any] = {"viewer": viewer_id, "limit": limit}
        if after is not None:
            where.append("(created_at, id) > (%(after_ts)s, %(after_id)s::uuid)")
            params.update(after_ts=after[0], after_id=after[1])
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        self._cur.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events {clause} ORDER BY created_at, id LIMIT %(limit)s", params)
        return [_event(r) for r in self._cur.fetchall()]

    # photos
    def insert_photo(self, photo_id: str, event: Event, key: str, content_type: str, declared_bytes: int,
                     idempotency_key: str | None) -> bool:
        self._cur.execute(
            "INSERT INTO photos (id, event_id, owner_id, original_key, content_type, declared_bytes,"
            " idempotency_key) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
            (photo_id, event.id, event.owner_id, key, content_type, declared_bytes, idempotency_key),
        )
        return self._cur.fetchone() is not None

    def photo_id_by_idempotency_key(self, owner_id: str, key: str) -> str | None:
        self._cur.execute("SELECT id::text AS id FROM photos WHERE owner_id = %s AND idempotency_key = %s",
                          (owner_id, key))
        row = self._cur.fetchone()
        return row["id"] if row else None

    def get_photo(self, photo_id: str, *, for_update: bool = False) -> Photo | None:
        lock = " FOR UPDATE OF p" if for_update else ""
        self._cur.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN events e ON e.id = p.event_id WHERE p.id = %s{lock}",
            (photo_id,),
        )
        row = self._cur.fetchone()
        if row is None:
            return None
        return _photo(row, self._derivatives([photo_id]).get(photo_id, []))

    def get_photos(self, photo_ids: list[str]) -> dict[str, Photo]:
        """The photos that exist among `photo_ids`, by id."""
        if not photo_ids:
            return {}
        self._cur.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN events e ON e.id = p.event_id"
            " WHERE p.id = ANY(%s::uuid[])", (photo_ids,))
        rows = self._cur.fetchall()
        derivatives = self._derivatives([r["id"] for r in rows])
        return {r["id"]: _photo(r, derivatives.get(r["id"], [])) for r in rows}

    def lock_photos(self, photo_ids: list[str]) -> dict[str, Photo]:
        """The photos that exist among ``photo_ids``, by id, each locked until the transaction
        ends; locked in id order, so two batches over the same photos cannot deadlock."""
        if not photo_ids:
            return {}
        self._cur.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN events e ON e.id = p.event_id"
            " WHERE p.id = ANY(%s::uuid[]) ORDER BY p.id FOR UPDATE OF p", (photo_ids,))
        rows = self._cur.fetchall()
        derivatives = self._derivatives([r["id"] for r in rows])
        return {r["id"]: _photo(r, derivatives.get(r["id"], [])) for r in rows}

    def list_event_photos(self, event_id: str, *, ready_public_only: bool,
                          after: tuple[dt.datetime, str] | None, limit: int) -> list[Photo]:
        where = ["p.event_id = %(event)s", "p.unlisted_at IS NULL"]
        params: dict[str, Any] = {"event": event_id, "limit": limit}
        if ready_public_only:
            where.append("p.status = %(status)s AND p.visibility = %(visibility)s")
            params.update(status=contract.READY, visibility=contract.PUBLIC)
        if after is not None:
            where.append("(p.created_at, p.id) > (%(after_ts)s, %(after_id)s::uuid)")
            params.update(after_ts=after[0], after_id=after[1])
        self._cur.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN events e ON e.id = p.event_id"
            f" WHERE {' AND '.join(where)} ORDER BY p.created_at, p.id LIMIT %(limit)s", params)
        rows = self._cur.fetchall()
        derivatives = self._derivatives([r["id"] for r in rows])
        return [_photo(r, derivatives.get(r["id"], [])) for r in rows]

    def _derivatives(self, photo_ids: list[str]) -> dict[str, list[Derivative]]:
        if not photo_ids:
            return {}
        self._cur.execute(
            "SELECT photo_id::text AS photo_id, kind, key, width, height, bytes, content_type"
            " FROM derivatives WHERE photo_id = ANY(%s::uuid[]) ORDER BY photo_id, kind", (photo_ids,))
        found: dict[str, list[Derivative]] = {}
        for r in self._cur.fetchall():
            pid = r.pop("photo_id")
            found.setdefault(pid, []).append(Derivative(**r))
        return found

    def register(self, photo_id: str, p: Processed) -> None:
        self._cur.execute("DELETE FROM derivatives WHERE photo_id = %s", (photo_id,))
        for d in p.derivatives:
            self._cur.execute(
                "INSERT INTO derivatives (photo_id, kind, key, width, height, bytes, content_type)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (photo_id, d.kind, d.key, d.width, d.height, d.bytes, d.content_type),
            )
        self._cur.execute(
            "UPDATE photos SET status = %s, width = %s, height = %s, original_bytes = %s, sha256 = %s,"
            " captured_at = %s, camera = %s, original_etag = %s, original_version_id = %s,"
            " failure_reason = NULL, updated_at = clock_timestamp() WHERE id = %s",
            (contract.READY, p.width, p.height, p.original_bytes, p.sha256, p.captured_at, p.camera or None,
             p.original_etag or None, p.original_version_id or None, photo_id),
        )

    def mark_failed(self, photo_id: str, reason: str) -> None:
        self._cur.execute(
            "UPDATE photos SET status = %s, failure_reason = %s, updated_at = clock_timestamp()"
            " WHERE id = %s", (contract.FAILED, reason, photo_id))

    def mark_failed_many(self, reasons: dict[str, str]) -> None:
        """``mark_failed`` for each photo id in ``reasons``, in one statement."""
        if not reasons:
            return
        self._cur.execute(
            "UPDATE photos p SET status = %s, failure_reason = x.reason, updated_at = clock_timestamp()"
            " FROM unnest(%s::uuid[], %s::text[]) AS x(id, reason) WHERE p.id = x.id",
            (contract.FAILED, list(reasons), list(reasons.values())))

    # reservations (sidecar/reservations.py)
    def touch_reservation(self, photo_id: str) -> None:
        """A new upload URL was handed out for this pending photo: its idle clock restarts."""
        self._cur.execute(
            "UPDATE photos SET updated_at = clock_timestamp() WHERE id = %s AND status = %s",
            (photo_id, contract.PENDING))

    def idle_reservations(self, idle_s: int, event_id: str | None, limit: int) -> list[Photo]:
        # The literal reaches PostgreSQL as text (psycopg2 binds on the client), so the partial
        # index on pending reservations still matches.
        where = ["p.status = %(status)s", "p.unlisted_at IS NULL",
                 "p.updated_at <= clock_timestamp() - make_interval(secs => %(idle)s)"]
        params: dict[str, Any] = {"status": contract.PENDING, "idle": idle_s, "limit": limit}
        if event_id is not None:
            where.append("p.event_id = %(event)s")
            params["event"] = event_id
        self._cur.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p JOIN events e ON e.id = p.event_id"
            f" WHERE {' AND '.join(where)} ORDER BY p.updated_at, p.id LIMIT %(limit)s", params)
        return [_photo(r, []) for r in self._cur.fetchall()]  # pending: no derivatives yet

    def reservation_idle(self, photo_id: str, idle_s: int) -> bool:
        """Whether the (locked) photo is still a pending reservation idle for ``idle_s``."""
        self._cur.execute(
            "SELECT 1 FROM photos WHERE id = %s AND status = %s AND unlisted_at IS NULL"
            " AND updated_at <= clock_timestamp() - make_interval(secs => %s)",
            (photo_id, contract.PENDING, idle_s))
        return self._cur.fetchone() is not None

    def update_photo(self, photo_id: str, price_minor: int, currency: str, visibility: str) -> None:
        self._cur.execute(
            "UPDATE photos SET price_minor = %s, currency = %s, visibility = %s,"
            " updated_at = clock_timestamp() WHERE id = %s", (price_minor, currency, visibility, photo_id))

    def delete_photo(self, photo_id: str) -> None:
        self._cur.execute("DELETE FROM photos WHERE id = %s", (photo_id,))

    def unlist_photo(self, photo_id: str) -> None:
        self._cur.execute("UPDATE photos SET unlisted_at = clock_timestamp(), updated_at = clock_timestamp()"
                          " WHERE id = %s AND unlisted_at IS NULL", (photo_id,))

    # sales (read from the transactions schema's view)
    def bought(self, user_id: str, photo_ids: list[str]) -> set[str]:
        """The photos among ``photo_ids`` that ``user_id`` holds an active entitlement to."""
        if not photo_ids:
            return set()
        self._cur.execute(f"SELECT photo_id FROM {_ENTITLEMENTS} WHERE user_id = %s AND photo_id = ANY(%s)",
                          (user_id, photo_ids))
        return {r["photo_id"] for r in self._cur.fetchall()}

    def sold(self, photo_id: str) -> bool:
        self._cur.execute(f"SELECT EXISTS (SELECT 1 FROM {_ENTITLEMENTS} WHERE photo_id = %s) AS sold",
                          (photo_id,))
        return bool(self._cur.fetchone()["sold"])

    def lock_sales_of(self, photo_id: str) -> None:
        """Wait for orders of this photo in flight; none starts until this transaction ends."""
        self._cur.execute(f"SELECT pg_advisory_xact_lock({SALE_LOCK_SQL})", (photo_id,))


class Repository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction, committed when the block ends without an exception."""
        timeout_ms = deadline.remaining_ms()
        try:
            with self._db.connection() as conn, dict_cursor(conn) as cur:
                cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(timeout_ms),))
                yield Transaction(cur)
        except psycopg2.errors.QueryCanceled as exc:
            raise deadline.DeadlineExceeded("database statement ran past the deadline") from exc

    def bought(self, user_id: str, photo_ids: list[str]) -> set[str]:
        """:meth:`Transaction.bought` in one round trip (``Database.one_message``), under the
        call's deadline: the page asks it on every call of a customer, and a transaction
        (BEGIN, two settings, the read, COMMIT through PgBouncer) was five."""
        if not photo_ids:
            return set()
        timeout_ms = deadline.remaining_ms()
        try:
            rows = self._db.one_message(
                "SELECT set_config('statement_timeout', %s, true);"
                f" SELECT photo_id FROM {_ENTITLEMENTS} WHERE user_id = %s AND photo_id = ANY(%s)",
                (str(timeout_ms), user_id, photo_ids))
        except psycopg2.errors.QueryCanceled as exc:
            raise deadline.DeadlineExceeded("database statement ran past the deadline") from exc
        return {str(r["photo_id"]) for r in rows}

    def ping(self) -> None:
        with self._db.cursor() as cur:
            cur.execute("SELECT 1")

    def close(self) -> None:
        self._db.close()
