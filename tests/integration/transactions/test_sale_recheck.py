"""The re-check under the sale hold, now inside the order's one statement.

An order reads its photos from the catalog first (no lock held), then sends the whole
transaction as one statement (transactions migration 0005): the sale hold, the re-check of
every photo against the photos schema (photos.photo_sale_status) under that hold, and the
writes. Here the photo changes in the photos schema right after the catalog read — a delete
or an unlisting that commits in that window — and the order must be refused with nothing
written, although the catalog's answer (read before) still offered the photo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from photostack.db import Database
from transactions.errors import StateConflict

from tests.identity import person


class ChangedRightAfterReading:
    """The catalog's answer as it was; then, after the first read, ``change`` commits in the photos
    schema (the in-memory catalog does not see it: it answers as a catalog read just before)."""

    def __init__(self, inner: Any, change: Callable[[], None]) -> None:
        self.inner, self.change, self.reads = inner, change, 0

    def get_photos(self, photo_ids: list[str], *, user: Any = None) -> dict[str, Any]:
        found: dict[str, Any] = self.inner.get_photos(photo_ids, user=user)
        self.reads += 1
        if self.reads == 1:
            self.change()
        return found


def _photos_sql(db: Database, sql: str, photo_id: str) -> None:
    with db.cursor() as cur:
        cur.execute(sql, (photo_id,))
        assert cur.rowcount == 1


CHANGES = {
    "deleted": "DELETE FROM photos.photos WHERE id = %s",
    "unlisted": "UPDATE photos.photos SET unlisted_at = now() WHERE id = %s",
    "made private": "UPDATE photos.photos SET visibility = 'private' WHERE id = %s",
    # The catalog read as the buyer hides a private event's photos (the sidecar's rule): the
    # re-check applies it too (photos migration 0022).
    "event made private": "UPDATE photos.events SET visibility = 'private'"
                          " WHERE id = (SELECT event_id FROM photos.photos WHERE id = %s)",
    "repriced": "UPDATE photos.photos SET price_minor = price_minor + 1 WHERE id = %s",
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_photo_changed_between_catalog_read_and_hold_is_not_sold(world: Any, violations: Any,
                                                                   change: str) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    pid, other = world.photo(ph, 400), world.photo(ph, 300)
    before, ph_before = world.footprint(buyer), world.footprint(ph)
    catalog = ChangedRightAfterReading(world.catalog, lambda: _photos_sql(world.service.db, CHANGES[change],
                                                                          pid))
    world.service.catalog = catalog

    with pytest.raises(StateConflict) as refused:
        world.order(buyer, other, pid)
    assert refused.value.code == "photo_changed"
    # The catalog (read before the change) still offers the photo: the refusal is the
    # statement's re-check under the hold.
    assert catalog.inner.get_photos([pid])[pid].for_sale
    assert world.footprint(buyer) == before and world.footprint(ph) == ph_before
    assert world.balance(buyer) == 1000
    assert not any(violations(world.service.db).values())


def test_the_unchanged_photo_still_sells_and_a_replay_survives_a_later_delete(world: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    pid, key = world.photo(ph, 400), world.key()
    first = world.order(buyer, pid, key=key)
    assert first["total_minor"] == 400 and world.balance(buyer) == 600

    # The photo is deleted after the sale (the catalog read still offers it): the retry of the
    # committed order answers what the first request got, and charges nothing more.
    world.service.catalog = ChangedRightAfterReading(
        world.catalog, lambda: _photos_sql(world.service.db, CHANGES["deleted"], pid))
    again = world.service.place_order(buyer, key, _request(pid), buyer=person(buyer, "customer"))
    assert again.replayed and again.body == first
    assert world.balance(buyer) == 600


def _request(*photo_ids: str) -> Any:
    from transactions.domain import OrderRequest

    return OrderRequest(tuple(photo_ids))


def test_an_admin_shown_a_private_events_photo_can_buy_it_and_a_customer_cannot(world: Any,
                                                                               violations: Any) -> None:
    # The catalog read shows a private event's photos to admins (the sidecar's can_see_photo);
    # the re-check under the hold applies the same rule (transactions migration 0007), so the
    # admin's order is not refused as changed, while a customer's still is.
    customer, admin, ph = world.user("c"), world.user("a"), world.user("p")
    world.fund(customer, 1000)
    world.fund(admin, 1000)
    pid = world.photo(ph, 400)
    _photos_sql(world.service.db, CHANGES["event made private"], pid)

    with pytest.raises(StateConflict) as refused:
        world.order(customer, pid)
    assert refused.value.code == "photo_changed"
    assert world.balance(customer) == 1000

    bought = world.service.place_order(admin, world.key(), _request(pid), buyer=person(admin, "admin"))
    assert bought.status == 201 and bought.body["total_minor"] == 400
    assert world.balance(admin) == 600
    assert not any(violations(world.service.db).values())
