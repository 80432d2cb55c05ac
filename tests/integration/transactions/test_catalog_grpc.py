"""The gRPC-backed catalog against a real photo sidecar process (schema photos)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from photostack import errors
from photostack.photo.v1 import photo_pb2 as pb
from transactions.catalog_grpc import GrpcPhotoCatalog
from transactions.errors import Missing, Unavailable

from infra.db.migrate import migrate
from tests.e2e.transactions_setup import priced_photos
from tests.identity import SidecarRef, StackSidecar, person, photo_client
from tests.integration.transactions.conftest import s3, uploads_bucket
from tests.made_events import MadeEvents
from tests.sidecar_process import SidecarProcess, free_port

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos", "transactions"])
    proc = SidecarProcess(workers=2).start()
    yield proc
    proc.stop()


def catalog_of(sidecar: SidecarRef) -> GrpcPhotoCatalog:
    """The transactions function's catalog: its Connect identity, each read as the buyer."""
    return GrpcPhotoCatalog(photo_client(sidecar, "photostack-transactions", deadline_s=2.0))


def test_catalog_reads_owner_price_and_key_from_the_sidecar(sidecar: SidecarProcess,
                                                             made_events: MadeEvents) -> None:
    owner = f"ph-{uuid.uuid4().hex[:8]}"
    (priced,) = priced_photos(sidecar, owner, 1, price_minor=1500, made=made_events)
    (unpriced,) = priced_photos(sidecar, owner, 1, price_minor=None, made=made_events)
    catalog = catalog_of(sidecar)
    found = catalog.get_photos([priced, unpriced, str(uuid.uuid4()), "not-a-uuid"],
                               user=person(owner, "photographer"))
    assert set(found) == {priced, unpriced}
    photo = found[priced]
    assert (photo.owner_id, photo.price_minor, photo.currency, photo.for_sale) == (owner, 1500, "EUR", True)
    assert photo.original_key == f"originals/{photo.event_id}/{photo.photo_id}"
    assert found[unpriced].for_sale is False
    # The function may not read the catalog on its own: only on a buyer's behalf.
    with pytest.raises(ValueError):
        catalog.get_photos([priced])


def test_a_private_event_photo_cannot_be_bought_by_whoever_cannot_see_it(
        sidecar: SidecarProcess, world: Any, made_events: MadeEvents) -> None:
    # A priced, ready, public photo in a private event: its photographer can sell it to people
    # who may see the event, nobody else. Read as the function itself, it looked for sale.
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", world.user("c")
    as_owner = person(owner, "photographer")
    photos = photo_client(sidecar, "photostack-photos")
    event = photos.create_event(pb.CreateEventRequest(name="Members only", date="2026-05-01",
                                                      visibility=pb.VISIBILITY_PRIVATE), user=as_owner)
    made_events.add(event.id)
    photo = photos.reserve_photo(pb.ReservePhotoRequest(event_id=event.id, content_type="image/jpeg",
                                                        declared_bytes=1000), user=as_owner)
    photo_client(sidecar, "photostack-upload").register_derivatives(pb.RegisterDerivativesRequest(
        photo_id=photo.id, width=10, height=10, original_bytes=1000, sha256="a" * 64,
        derivatives=[pb.Derivative(kind="web", key=f"web/{photo.id}.jpg", width=10, height=10, bytes=100,
                                   content_type="image/jpeg")]))
    photos.update_photo(pb.UpdatePhotoRequest(photo_id=photo.id, price_minor=2000, currency="EUR"),
                        user=as_owner)
    world.service.catalog = catalog_of(sidecar)
    world.fund(buyer, 5000)
    before = world.footprint(buyer)
    with pytest.raises(Missing):
        world.order(buyer, photo.id)
    assert world.footprint(buyer) == before


def test_order_priced_by_the_real_sidecar(sidecar: SidecarProcess, world: Any,
                                          made_events: MadeEvents) -> None:
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", world.user("c")
    (photo,) = priced_photos(sidecar, owner, 1, price_minor=2000,
                             originals=(s3(), uploads_bucket()), made=made_events)
    world.service.catalog = catalog_of(sidecar)
    world.fund(buyer, 5000)
    order = world.order(buyer, photo)
    assert order["total_minor"] == 2000
    assert world.balance(owner, "earnings") == 1700
    assert world.service.download(buyer, photo, buyer=person(buyer, "customer"))["photo_id"] == photo


def test_sidecar_down_is_a_503_and_changes_nothing(world: Any) -> None:
    buyer = world.user("c")
    world.fund(buyer, 5000)
    # Registered nowhere: Consul lists no instance of this name.
    world.service.catalog = catalog_of(StackSidecar(service=f"photo-sidecar-test-gone-{uuid.uuid4().hex[:8]}",
                                                    address=f"127.0.0.1:{free_port()}"))
    before = world.footprint(buyer)
    with pytest.raises(Unavailable):
        world.order(buyer, str(uuid.uuid4()))
    assert world.footprint(buyer) == before


def test_get_photos_answers_each_photo_as_get_photo_does(sidecar: SidecarProcess, world: Any,
                                                         made_events: MadeEvents) -> None:
    """The batch read keeps the sidecar's rules: visibility and the paywall, per caller, per photo."""
    owner, buyer, stranger = f"ph-{uuid.uuid4().hex[:8]}", world.user("c"), world.user("c")
    bought, other = priced_photos(sidecar, owner, 2, price_minor=700, made=made_events)
    as_owner = person(owner, "photographer")
    photos = photo_client(sidecar, "photostack-photos")
    hidden = photos.create_event(pb.CreateEventRequest(name="Members only", date="2026-05-01",
                                                       visibility=pb.VISIBILITY_PRIVATE), user=as_owner)
    made_events.add(hidden.id)
    private = photos.reserve_photo(pb.ReservePhotoRequest(event_id=hidden.id, content_type="image/jpeg",
                                                          declared_bytes=1000), user=as_owner).id
    world.service.catalog = catalog_of(sidecar)
    world.fund(buyer, 700)
    world.order(buyer, bought)
    asked = [other, private, bought, str(uuid.uuid4()), "not-a-uuid", bought]
    for user in (as_owner, person(buyer, "customer"), person(stranger, "customer")):
        one_by_one = []
        for pid in dict.fromkeys(asked):
            try:
                one_by_one.append(photos.get_photo(pb.GetPhotoRequest(photo_id=pid), user=user))
            except errors.NotFound:
                continue
        batch = photos.get_photos(pb.GetPhotosRequest(photo_ids=asked), user=user)
        assert list(batch.photos) == one_by_one, user.user_id
    # The buyer sees what they bought in full, the stranger does not: the paywall held in the batch.
    just_bought = pb.GetPhotosRequest(photo_ids=[bought])
    as_buyer = photos.get_photos(just_bought, user=person(buyer, "customer"))
    as_stranger = photos.get_photos(just_bought, user=person(stranger, "customer"))
    assert as_buyer.photos[0] != as_stranger.photos[0]


def test_get_photos_is_bounded_and_needs_a_buyer(sidecar: SidecarProcess) -> None:
    owner = f"ph-{uuid.uuid4().hex[:8]}"
    ids = [str(uuid.uuid4()) for _ in range(101)]
    with pytest.raises(errors.BadRequest):
        photo_client(sidecar, "photostack-photos").get_photos(pb.GetPhotosRequest(photo_ids=ids),
                                                               user=person(owner, "photographer"))
    # The transactions function's identity may read photos only on a buyer's behalf.
    with pytest.raises(errors.ApiError) as refused:
        photo_client(sidecar, "photostack-transactions").get_photos(pb.GetPhotosRequest(photo_ids=ids[:1]))
    assert refused.value.status in (401, 403)
