"""The paywall, immutability and deletion rules of the sidecar on the real PostgreSQL and Redis.

Sales are the transactions schema's: a sale here is an order row and an entitlement written with
plain SQL (the transactions service writes them the same way), removed when the test ends.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from photostack.db import Database

from sidecar import domain as d
from sidecar.service import PhotoService

pytestmark = pytest.mark.integration

KINDS = ("web_jpg", "web_webp", "preview_jpg", "preview_webp", "thumb_jpg", "thumb_webp")
FREE = {"preview_jpg", "preview_webp", "thumb_jpg", "thumb_webp"}
CUSTOMER = d.Caller("customer-x", "customer")


def processed(photo_id: str) -> d.Processed:
    return d.Processed(
        derivatives=tuple(d.Derivative(k, f"derivatives/e/{photo_id}/{k}", 100, 80, 10, "image/jpeg")
                          for k in KINDS),
        width=4000, height=3000, original_bytes=5000, sha256="ab" * 32,
        original_etag="0123456789abcdef0123456789abcdef", original_version_id="v-1")


@pytest.fixture
def ready_photo(service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event) -> d.Photo:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000, f"up-{uuid.uuid4().hex}")
    return service.register_derivatives(pipeline, photo.id, processed(photo.id))


@pytest.fixture
def sell(photos_db: Database) -> Iterator[Callable[[str, str], None]]:
    """Record a sale of a photo to a user in the transactions schema (cleaned up afterwards)."""
    orders: list[str] = []

    def sale(user_id: str, photo_id: str) -> None:
        order_id = str(uuid.uuid4())
        with photos_db.cursor() as cur:
            cur.execute("INSERT INTO transactions.orders (id, customer_id, idempotency_key, request_hash,"
                        " status, currency, total_minor, response) VALUES (%s, %s, %s, 'h', 'paid', 'EUR',"
                        " 0, '{}'::jsonb)", (order_id, user_id, f"k-{order_id}"))
            cur.execute("INSERT INTO transactions.entitlements (user_id, photo_id, order_id)"
                        " VALUES (%s, %s, %s)", (user_id, photo_id, order_id))
        orders.append(order_id)

    yield sale
    with photos_db.cursor() as cur:
        cur.execute("DELETE FROM transactions.entitlements WHERE order_id = ANY(%s::uuid[])", (orders,))
        cur.execute("DELETE FROM transactions.orders WHERE id = ANY(%s::uuid[])", (orders,))


def kinds(photo: d.Photo) -> set[str]:
    return {x.kind for x in photo.derivatives}


def test_a_buyer_gets_every_size_the_moment_the_sale_exists(
        service: PhotoService, ready_photo: d.Photo, sell: Callable[[str, str], None]) -> None:
    seen = service.get_photo(CUSTOMER, ready_photo.id)
    assert kinds(seen) == FREE and not seen.full_access and seen.original_key == ""
    page = service.list_event_photos(CUSTOMER, ready_photo.event_id, limit=10, cursor="")
    assert [(p.id, kinds(p)) for p in page.items] == [(ready_photo.id, FREE)]
    sell(CUSTOMER.user_id, ready_photo.id)
    seen = service.get_photo(CUSTOMER, ready_photo.id)  # the photo itself is cached: the sale is not
    assert kinds(seen) == set(KINDS) and seen.full_access and seen.original_version_id == "v-1"
    page = service.list_event_photos(CUSTOMER, ready_photo.event_id, limit=10, cursor="")
    assert [kinds(p) for p in page.items] == [set(KINDS)]
    other = d.Caller("someone-else", "customer")
    assert kinds(service.get_photo(other, ready_photo.id)) == FREE


def test_the_owner_and_admins_get_every_size(service: PhotoService, owner: d.Caller,
                                             ready_photo: d.Photo) -> None:
    for who in (owner, d.Caller("root", "admin")):
        assert kinds(service.get_photo(who, ready_photo.id)) == set(KINDS)


def test_the_identity_of_the_hashed_original_is_recorded(service: PhotoService, owner: d.Caller,
                                                          ready_photo: d.Photo) -> None:
    mine = service.get_photo(owner, ready_photo.id)
    assert (mine.original_etag, mine.original_version_id) == ("0123456789abcdef0123456789abcdef", "v-1")


def test_no_upload_url_for_a_photo_that_is_not_pending(service: PhotoService, owner: d.Caller,
                                                       pipeline: d.Caller, event: d.Event) -> None:
    key = f"up-{uuid.uuid4().hex}"
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000, key)
    assert service.reserve_photo(owner, event.id, "image/jpeg", 1000, key).id == photo.id  # pending: fine
    service.register_derivatives(pipeline, photo.id, processed(photo.id))
    with pytest.raises(d.FailedPrecondition, match="ready"):
        service.reserve_photo(owner, event.id, "image/jpeg", 1000, key)
    failed_key = f"up-{uuid.uuid4().hex}"
    failed = service.reserve_photo(owner, event.id, "image/jpeg", 1000, failed_key)
    service.mark_failed(pipeline, failed.id, "not an image")
    with pytest.raises(d.FailedPrecondition, match="failed"):
        service.reserve_photo(owner, event.id, "image/jpeg", 1000, failed_key)


def test_deleting_a_sold_photo_unlists_it(service: PhotoService, owner: d.Caller, ready_photo: d.Photo,
                                          sell: Callable[[str, str], None]) -> None:
    sell(CUSTOMER.user_id, ready_photo.id)
    gone = service.delete_photo(owner, ready_photo.id)
    assert gone.original_key == "" and gone.derivatives == ()  # nothing for the caller to remove
    for who in (owner, d.Caller("someone-else", "customer")):
        with pytest.raises(d.NotFound):
            service.get_photo(who, ready_photo.id)
        assert service.list_event_photos(who, ready_photo.event_id, limit=10, cursor="").items == []
    with pytest.raises(d.NotFound):
        service.delete_photo(owner, ready_photo.id)
    kept = service.get_photo(CUSTOMER, ready_photo.id)
    assert kept.unlisted and kinds(kept) == set(KINDS) and kept.original_key
    assert service.get_photo(d.Caller("service:transactions", "service"), ready_photo.id).unlisted


def test_deleting_an_unsold_photo_deletes_it(service: PhotoService, owner: d.Caller,
                                             ready_photo: d.Photo) -> None:
    gone = service.delete_photo(owner, ready_photo.id)
    assert gone.original_key == ready_photo.original_key and kinds(gone) == set(KINDS)
    with pytest.raises(d.NotFound):
        service.get_photo(d.Caller("service:transactions", "service"), ready_photo.id)


def test_a_delete_waits_for_an_order_holding_the_sale_lock(
        service: PhotoService, owner: d.Caller, ready_photo: d.Photo, photos_db: Database,
        sell: Callable[[str, str], None]) -> None:
    from transactions import repository as tx_repo

    results: list[d.Photo] = []
    with photos_db.connection() as conn, conn.cursor() as cur:
        tx_repo.hold_photos_for_sale(cur, [ready_photo.id])
        worker = threading.Thread(target=lambda: results.append(service.delete_photo(owner, ready_photo.id)))
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive() and not results
        sell(CUSTOMER.user_id, ready_photo.id)  # the order commits its sale (here: before it ends)
    worker.join(10)
    assert results and results[0].original_key == ""  # it found the sale: unlisted
