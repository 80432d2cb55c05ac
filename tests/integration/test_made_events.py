"""tests/made_events.py against the real PostgreSQL and Redis: what a test or a bench made ready
without uploading is removed (rows and the sidecar's cache entries), and the sweep of a killed
run's events spares a run in progress and other people's events."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import psycopg2
import pytest

from infra.db.migrate import migrate
from tests.made_events import MadeEvents, events_left, sweep

pytestmark = pytest.mark.integration


def _ready_event(database_url: str, owner: str, name: str, photos: int,
                 age: timedelta = timedelta()) -> tuple[str, list[str]]:
    """An event of ``photos`` ready photos with no object anywhere, as the benches seed them."""
    event_id, photo_ids = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(photos)]
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO photos.events (id, owner_id, name, event_date, visibility, created_at)"
                        " VALUES (%s, %s, %s, current_date, 'public', clock_timestamp() - %s)",
                        (event_id, owner, name, age))
            for pid in photo_ids:
                cur.execute("INSERT INTO photos.photos (id, event_id, owner_id, status, original_key,"
                            " content_type, declared_bytes)"
                            " VALUES (%s, %s, %s, 'ready', %s, 'image/jpeg', 1)",
                            (pid, event_id, owner, f"originals/{event_id}/{pid}"))
                cur.execute("INSERT INTO photos.derivatives (photo_id, kind, key, width, height, bytes,"
                            " content_type) VALUES (%s, 'web', %s, 10, 10, 10, 'image/jpeg')",
                            (pid, f"web/{event_id}/{pid}.jpg"))
    finally:
        conn.close()
    return event_id, photo_ids


def test_made_events_are_removed_with_their_photos_and_cache_entries(database_url: str,
                                                                     redis_client: Any) -> None:
    migrate(database_url, ["photos"])
    made, owner = MadeEvents(), f"made-{uuid.uuid4().hex[:8]}"
    first, first_photos = _ready_event(database_url, owner, "Made", 3)
    second, _ = _ready_event(database_url, owner, "Made", 1)
    kept, _ = _ready_event(database_url, owner, "Not made here", 1)
    made.add(first)
    made.add(second)
    cached = [f"ps:event:{first}", f"ps:photo:{first_photos[0]}"]
    for key in cached:
        redis_client.hset(key, "gen", "x")
    try:
        assert events_left(database_url, [first, second]) == sorted([first, second])
        made.remove(database_url)
        assert events_left(database_url, [first, second]) == []
        assert not any(redis_client.exists(key) for key in cached)
        assert made.ids == []
        assert events_left(database_url, [kept]) == [kept]  # only what was recorded goes
    finally:  # whatever the test left, should it fail
        leftover = MadeEvents()
        for event_id in (first, second, kept):
            leftover.add(event_id)
        leftover.remove(database_url)


def test_the_sweep_takes_a_killed_runs_events_and_spares_a_running_one_and_others(database_url: str) -> None:
    migrate(database_url, ["photos"])
    name = f"Sweep test {uuid.uuid4().hex[:8]}"
    killed, _ = _ready_event(database_url, "sweep-test-a", name, 2, age=timedelta(hours=1))
    running, _ = _ready_event(database_url, "sweep-test-b", name, 2)
    someone, _ = _ready_event(database_url, "a-person", name, 1, age=timedelta(hours=1))
    cleanup = MadeEvents()
    for event_id in (running, someone):
        cleanup.add(event_id)
    try:
        swept = sweep(database_url, name=name, owner_like="sweep-test-%", older_than=timedelta(minutes=15))
        assert swept == 1
        assert events_left(database_url, [killed, running, someone]) == sorted([running, someone])
    finally:
        cleanup.remove(database_url)
