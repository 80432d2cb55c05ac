"""Sold photos across the real photo sidecar and the transactions service (real PostgreSQL, S3).

The paywall reads the entitlements the orders write; deleting a sold photo unlists it and its
buyers keep downloading; a swapped original is never granted; an order and a delete of the
same photo serialise on the photo's sale lock.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from photostack import errors
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient
from photostack.tokens import Principal
from transactions.catalog_grpc import GrpcPhotoCatalog
from transactions.errors import Missing, StateConflict, TransactionsError

from infra.db.migrate import migrate
from tests.e2e.transactions_setup import priced_photos
from tests.identity import person, photo_client
from tests.integration.transactions.conftest import s3, uploads_bucket
from tests.made_events import MadeEvents
from tests.sidecar_process import SidecarProcess

pytestmark = pytest.mark.integration

FREE = {"thumb", "preview"}


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos", "transactions"])
    proc = SidecarProcess(workers=4).start()
    yield proc
    proc.stop()


@pytest.fixture
def client(sidecar: SidecarProcess) -> PhotoClient:
    """The photos API's view: each call on behalf of the person named."""
    return photo_client(sidecar, "photostack-photos")


def buyer_catalog(sidecar: SidecarProcess) -> GrpcPhotoCatalog:
    """The transactions function's catalog, read as the buyer."""
    return GrpcPhotoCatalog(photo_client(sidecar, "photostack-transactions"))


@pytest.fixture
def shop(world: Any, sidecar: SidecarProcess) -> Any:
    world.service.catalog = buyer_catalog(sidecar)
    return world


def caller(user_id: str, role: str = "customer") -> Principal:
    return person(user_id, role)


def download(shop: Any, user_id: str, photo_id: str) -> dict[str, Any]:
    return dict(shop.service.download(user_id, photo_id, buyer=caller(user_id)))


def kinds(client: PhotoClient, user: Principal, photo_id: str) -> set[str]:
    photo = client.get_photo(pb.GetPhotoRequest(photo_id=photo_id), user=user)
    return {d.kind for d in photo.derivatives}


def test_buying_grants_the_clean_size_at_once_and_a_refund_takes_it_back(
        sidecar: SidecarProcess, client: PhotoClient, shop: Any, made_events: MadeEvents) -> None:
    owner, buyer, other = f"ph-{uuid.uuid4().hex[:8]}", shop.user("c"), shop.user("c")
    (pid,) = priced_photos(sidecar, owner, 1, price_minor=900, made=made_events)
    # priced_photos registers a single "web" derivative: withheld from anyone who has not paid.
    assert kinds(client, caller(buyer), pid) == set()
    shop.fund(buyer, 2000)
    order = shop.order(buyer, pid)
    assert kinds(client, caller(buyer), pid) == {"web"}
    bought = client.get_photo(pb.GetPhotoRequest(photo_id=pid), user=caller(buyer))
    assert bought.full_access and bought.original_key
    assert kinds(client, caller(other), pid) == set()
    page = client.list_event_photos(pb.ListEventPhotosRequest(event_id=bought.event_id), user=caller(buyer))
    assert [(p.id, p.full_access, len(p.derivatives)) for p in page.photos] == [(pid, True, 1)]
    page = client.list_event_photos(pb.ListEventPhotosRequest(event_id=bought.event_id), user=caller(other))
    assert [(p.id, p.full_access, len(p.derivatives), p.original_key) for p in page.photos] == [
        (pid, False, 0, "")]
    shop.service.refund(order["order_id"])
    assert kinds(client, caller(buyer), pid) == set()


def test_deleting_a_sold_photo_unlists_it_and_its_buyer_keeps_the_download(
        sidecar: SidecarProcess, client: PhotoClient, shop: Any, made_events: MadeEvents) -> None:
    owner, buyer, other = f"ph-{uuid.uuid4().hex[:8]}", shop.user("c"), shop.user("c")
    (pid,) = priced_photos(sidecar, owner, 1, price_minor=900, originals=(s3(), uploads_bucket()),
                           made=made_events)
    shop.fund(buyer, 2000)
    shop.fund(other, 2000)
    shop.order(buyer, pid)
    photographer = caller(owner, "photographer")
    event_id = client.get_photo(pb.GetPhotoRequest(photo_id=pid), user=photographer).event_id

    gone = client.delete_photo(pb.DeletePhotoRequest(photo_id=pid), user=photographer)
    assert gone.original_key == "" and list(gone.derivative_keys) == []  # nothing for the caller to remove

    # Gone from browsing for everyone else, the owner included, and from sale.
    for who in (caller(other), photographer):
        with pytest.raises(errors.NotFound):
            client.get_photo(pb.GetPhotoRequest(photo_id=pid), user=who)
        page = client.list_event_photos(pb.ListEventPhotosRequest(event_id=event_id), user=who)
        assert pid not in [p.id for p in page.photos]
    with pytest.raises(Missing):  # the catalog is read as the buyer: they cannot see it
        shop.order(other, pid)
    with pytest.raises(errors.NotFound):
        client.delete_photo(pb.DeletePhotoRequest(photo_id=pid), user=photographer)
    # The buyer still sees it, with every size, and downloads the original.
    assert client.get_photo(pb.GetPhotoRequest(photo_id=pid), user=caller(buyer)).unlisted
    grant = download(shop, buyer, pid)
    assert s3().head_object(Bucket=shop.service.uploads_bucket,
                            Key=f"originals/{event_id}/{pid}")["ContentLength"] > 0
    assert grant["photo_id"] == pid


def test_deleting_an_unsold_photo_deletes_it(sidecar: SidecarProcess, client: PhotoClient, shop: Any,
                                             made_events: MadeEvents) -> None:
    owner = f"ph-{uuid.uuid4().hex[:8]}"
    (pid,) = priced_photos(sidecar, owner, 1, price_minor=900, made=made_events)
    photographer = caller(owner, "photographer")
    gone = client.delete_photo(pb.DeletePhotoRequest(photo_id=pid), user=photographer)
    assert gone.original_key.endswith(pid) and list(gone.derivative_keys) == [f"web/{pid}.jpg"]
    with pytest.raises(errors.NotFound):
        # Gone for everyone, internal callers included (the upload function reads as itself).
        photo_client(sidecar, "photostack-upload").get_photo(pb.GetPhotoRequest(photo_id=pid))


def test_a_swapped_original_is_refused_not_served(
        sidecar: SidecarProcess, client: PhotoClient, shop: Any, made_events: MadeEvents) -> None:
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", shop.user("c")
    (pid,) = priced_photos(sidecar, owner, 1, price_minor=900, originals=(s3(), uploads_bucket()),
                           made=made_events)
    shop.fund(buyer, 2000)
    shop.order(buyer, pid)
    assert download(shop, buyer, pid)["photo_id"] == pid
    key = client.get_photo(pb.GetPhotoRequest(photo_id=pid), user=caller(buyer)).original_key
    s3().put_object(Bucket=shop.service.uploads_bucket, Key=key, Body=b"other bytes entirely")
    for user in (buyer, owner):
        with pytest.raises(StateConflict) as refused:
            download(shop, user, pid)
        assert refused.value.code == "original_changed"
    s3().delete_object(Bucket=shop.service.uploads_bucket, Key=key)  # removed: refused as well
    with pytest.raises(StateConflict):
        download(shop, buyer, pid)


def test_a_photo_without_a_recorded_original_is_never_granted(
        sidecar: SidecarProcess, client: PhotoClient, shop: Any, made_events: MadeEvents) -> None:
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", shop.user("c")
    # No original identity recorded.
    (pid,) = priced_photos(sidecar, owner, 1, price_minor=900, made=made_events)
    shop.fund(buyer, 2000)
    shop.order(buyer, pid)
    with pytest.raises(StateConflict) as refused:
        download(shop, buyer, pid)
    assert refused.value.code == "original_unverified"


class PausingCatalog:
    """The real catalog, pausing an order at the end of its look at the photos (pricing, before
    the order's transaction and its locks)."""

    def __init__(self, inner: GrpcPhotoCatalog) -> None:
        self.inner = inner
        self.calls = 0
        self.paused = threading.Event()
        self.go_on = threading.Event()

    def _pause(self) -> None:
        self.paused.set()
        assert self.go_on.wait(10)

    def get_photos(self, photo_ids: list[str], *, user: Principal | None = None) -> dict[str, Any]:
        self.calls += 1
        found = self.inner.get_photos(photo_ids, user=user)
        if self.calls == 1:
            self._pause()
        return found


def _waiting_on_a_lock(db: Any, buyer: str) -> bool:
    with db.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                    (f"%place_order_checked%{buyer}%",))
        return cur.fetchone() is not None


def test_an_order_in_flight_turns_a_delete_into_an_unlisting(
        sidecar: SidecarProcess, client: PhotoClient, shop: Any, made_events: MadeEvents) -> None:
    """A delete waits for an order holding the photo's sale lock, then finds the sale."""
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", shop.user("c")
    (pid,) = priced_photos(sidecar, owner, 1, price_minor=900, made=made_events)
    shop.fund(buyer, 2000)
    orders: list[Any] = []
    deletes: list[Any] = []
    # The order is one statement (hold, re-check, writes): it is paused inside it, holding the
    # sale lock, by a lock on the buyer's wallet row that it takes last.
    with shop.service.db.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM accounts WHERE kind = 'wallet' AND owner_id = %s FOR UPDATE", (buyer,))
        order = threading.Thread(target=lambda: orders.append(shop.order(buyer, pid)))
        order.start()
        deadline = time.monotonic() + 30
        while not _waiting_on_a_lock(shop.service.db, buyer):  # holds the sale lock, waits for the wallet
            assert order.is_alive() and time.monotonic() < deadline
            time.sleep(0.02)
        delete = threading.Thread(target=lambda: deletes.append(client.delete_photo(
            pb.DeletePhotoRequest(photo_id=pid), user=caller(owner, "photographer"))))
        delete.start()
        time.sleep(0.5)
        assert delete.is_alive() and not deletes  # waiting for the order
    order.join(10)
    delete.join(10)
    assert orders and orders[0]["items"] == [{"photo_id": pid, "price_minor": 900}]
    assert deletes and deletes[0].original_key == ""  # unlisted, not deleted: the buyer keeps it
    assert client.get_photo(pb.GetPhotoRequest(photo_id=pid), user=caller(buyer)).unlisted


def test_a_delete_that_went_first_fails_the_order_and_charges_nothing(
        sidecar: SidecarProcess, client: PhotoClient, shop: Any, made_events: MadeEvents) -> None:
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", shop.user("c")
    (pid,) = priced_photos(sidecar, owner, 1, price_minor=900, made=made_events)
    shop.fund(buyer, 2000)
    before = shop.footprint(buyer)
    # The order priced the photo and is on its way to the lock when the delete commits.
    catalog = PausingCatalog(buyer_catalog(sidecar))
    shop.service.catalog = catalog
    failures: list[BaseException] = []

    def buy() -> None:
        try:
            shop.order(buyer, pid)
        except TransactionsError as exc:
            failures.append(exc)

    order = threading.Thread(target=buy)
    order.start()
    assert catalog.paused.wait(10)
    gone = client.delete_photo(pb.DeletePhotoRequest(photo_id=pid), user=caller(owner, "photographer"))
    assert gone.original_key.endswith(pid)  # nobody had bought it: deleted with its objects
    catalog.go_on.set()
    order.join(10)
    assert failures and isinstance(failures[0], Missing)
    assert shop.footprint(buyer) == before
