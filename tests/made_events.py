"""Events whose photos a test or a bench made ``ready`` without uploading them (straight through the
photo sidecar or in the database), and their removal.

Such a photo has no object in the stack's S3: left in the database, the storage check of the next
``make up`` marks it failed as lost (a ready photo without its original is broken), noise that
would hide a real loss. Whoever makes one records its event (``MadeEvents.add``) and removes it
when done (``MadeEvents.remove``: the events' rows, their photos with them, and the sidecar's cache
entries of both); ``sweep`` removes what a killed run could not.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable
from datetime import timedelta

import psycopg2
import redis
from photostack.config import get_settings


def remove_events(database_url: str, event_ids: Iterable[str]) -> list[str]:
    """Deletes the events and their photos (ON DELETE CASCADE: derivatives, faces and bibs too),
    and forgets their cache entries; answers the ids of those photos."""
    ids = sorted(set(event_ids))
    if not ids:
        return []
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM photos.photos WHERE event_id = ANY(%s::uuid[]) RETURNING id::text",
                        (ids,))
            photo_ids = [r[0] for r in cur.fetchall()]
            cur.execute("DELETE FROM photos.events WHERE id = ANY(%s::uuid[])", (ids,))
    finally:
        conn.close()
    forget_cached(ids, photo_ids)
    return photo_ids


def remove_events_of(database_url: str, owner_id: str) -> list[str]:
    """Removes every event of ``owner_id`` (a test's own photographer, made up for that one test)
    and their photos, as ``remove_events``; answers the ids of those photos."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT id::text FROM photos.events WHERE owner_id = %s", (owner_id,))
            ids = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    return remove_events(database_url, ids)


def forget_cached(event_ids: list[str], photo_ids: list[str]) -> None:
    """Drops the sidecar's cache entries of removed events and photos (sidecar/cache.py's keys), so
    that no sidecar answers them from Redis; they would expire with the cache's TTL anyway."""
    keys = [f"ps:event:{e}" for e in event_ids] + [f"ps:photo:{p}" for p in photo_ids]
    client = redis.Redis.from_url(get_settings().redis_url)
    try:
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
    except redis.RedisError as exc:  # Redis stopped by a test: the rows are gone all the same
        warnings.warn(f"the removed events' cache entries stay until their TTL: {exc}", stacklevel=2)
    finally:
        client.close()


def events_left(database_url: str, event_ids: Iterable[str]) -> list[str]:
    """Those of ``event_ids`` that still have a photo or an event row."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT id::text FROM photos.events WHERE id = ANY(%(ids)s::uuid[]) UNION"
                        " SELECT event_id::text FROM photos.photos WHERE event_id = ANY(%(ids)s::uuid[])",
                        {"ids": sorted(set(event_ids))})
            return sorted(r[0] for r in cur.fetchall())
    finally:
        conn.close()


def sweep(database_url: str, *, name: str, owner_like: str, older_than: timedelta) -> int:
    """Removes the events named ``name`` of owners ``LIKE owner_like`` created more than
    ``older_than`` ago (a killed run's: younger ones may be a run in progress); how many."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT id::text FROM photos.events WHERE name = %s AND owner_id LIKE %s"
                        " AND created_at < clock_timestamp() - %s", (name, owner_like, older_than))
            ids = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    remove_events(database_url, ids)
    return len(ids)


class MadeEvents:
    """The events one test or bench made, to remove when it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[str] = []

    def add(self, event_id: str) -> str:
        with self._lock:
            self._ids.append(event_id)
        return event_id

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return list(self._ids)

    def remove(self, database_url: str) -> None:
        """Removes every recorded event and its photos; fails if any is still there."""
        ids = self.ids
        remove_events(database_url, ids)
        left = events_left(database_url, ids)
        assert not left, f"events made by the test left in the photos schema: {left[:5]}"
        with self._lock:
            self._ids = [i for i in self._ids if i not in ids]
