"""The transactions tests list their photos in the photos schema (``ready``, no object in the
stack's S3, tests/catalog_fakes.py) and remove them again: a listing left behind is what the
storage check of the next ``make up`` marks failed as lost, noise that would hide a real loss."""

from __future__ import annotations

from datetime import timedelta

import pytest
from photostack.db import Database

from tests.catalog_fakes import LISTED_EVENT, still_listed, unlist_leftovers
from tests.integration.transactions.conftest import fresh_world

pytestmark = pytest.mark.integration


def _events(db: Database, photo_ids: list[str]) -> list[str]:
    with db.cursor() as cur:
        cur.execute("SELECT DISTINCT e.id::text AS id FROM photos.events e JOIN photos.photos p"
                    " ON p.event_id = e.id WHERE p.id = ANY(%s::uuid[])", (photo_ids,))
        return sorted(r["id"] for r in cur.fetchall())


def _statuses(db: Database, photo_ids: list[str]) -> list[str]:
    with db.cursor() as cur:
        cur.execute("SELECT status FROM photos.photos WHERE id = ANY(%s::uuid[]) ORDER BY status",
                    (photo_ids,))
        return [r["status"] for r in cur.fetchall()]


def _event_exists(db: Database, event_id: str) -> bool:
    with db.cursor() as cur:
        cur.execute("SELECT 1 FROM photos.events WHERE id = %s", (event_id,))
        return cur.fetchone() is not None


def test_a_world_removes_every_photo_it_listed_when_it_ends(tx_db: Database) -> None:
    with fresh_world(tx_db) as world:
        buyer, ph = world.user("c"), world.user("p")
        world.fund(buyer, 1000)
        sold = world.photo(ph, 400)
        listed = [sold, world.photo(ph, 300, for_sale=False), world.stored_photo(ph, 200)]
        assert world.order(buyer, sold)["total_minor"] == 400  # a sold photo goes too: orders keep its id
        assert _statuses(tx_db, listed) == ["pending", "ready", "ready"]
        events = _events(tx_db, listed)
        assert len(events) == 3
    assert still_listed(tx_db, listed) == []
    assert not any(_event_exists(tx_db, e) for e in events)
    assert world.service.list_orders(buyer, None, 50)["orders"][0]["total_minor"] == 400


def test_a_world_removes_its_listings_when_its_test_fails(tx_db: Database) -> None:
    with pytest.raises(RuntimeError), fresh_world(tx_db) as world:
        listed = [world.photo(world.user("p"), 100)]
        raise RuntimeError("the test failed")
    assert still_listed(tx_db, listed) == []


def test_a_killed_runs_listings_are_swept_and_a_running_ones_kept(tx_db: Database) -> None:
    with fresh_world(tx_db) as killed, fresh_world(tx_db) as running:
        old = [killed.photo(killed.user("p"), 100), killed.photo(killed.user("p"), 200)]
        young = [running.photo(running.user("p"), 100)]
        with tx_db.cursor() as cur:  # as if its run had been killed an hour ago
            cur.execute("UPDATE photos.events SET created_at = created_at - interval '1 hour'"
                        " WHERE id = ANY(%s::uuid[]) AND name = %s", (_events(tx_db, old), LISTED_EVENT))
        assert unlist_leftovers(tx_db, older_than=timedelta(minutes=15)) >= 2
        assert still_listed(tx_db, old) == []
        assert still_listed(tx_db, young) == young
