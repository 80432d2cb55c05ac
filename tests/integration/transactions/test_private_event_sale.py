"""A private event's photos are sold only to people allowed to see them (real sidecar, PostgreSQL).

The transactions function reads the catalog as the buyer: a photo the buyer may not see is not
found (404), nothing is charged and nothing is owned.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from photostack.photo.v1 import photo_pb2 as pb
from transactions.catalog_grpc import GrpcPhotoCatalog
from transactions.errors import Missing, NotPurchasable

from infra.db.migrate import migrate
from tests.identity import person, photo_client
from tests.made_events import MadeEvents
from tests.sidecar_process import SidecarProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos", "transactions"])
    proc = SidecarProcess(workers=2).start()
    yield proc
    proc.stop()


def private_event_photo(sidecar: SidecarProcess, owner_id: str, *, photo_visibility: pb.Visibility,
                        made: MadeEvents) -> str:
    """A ready photo priced 800 EUR-cents in a new private event of ``owner_id`` (recorded in ``made``)."""
    photos, pipeline = photo_client(sidecar, "photostack-photos"), photo_client(sidecar, "photostack-upload")
    owner = person(owner_id, "photographer")
    event = photos.create_event(pb.CreateEventRequest(name="Wedding", date="2026-05-01",
                                                      visibility=pb.VISIBILITY_PRIVATE), user=owner)
    made.add(event.id)
    photo = photos.reserve_photo(pb.ReservePhotoRequest(event_id=event.id, content_type="image/jpeg",
                                                        declared_bytes=1000), user=owner)
    pipeline.register_derivatives(pb.RegisterDerivativesRequest(
        photo_id=photo.id, width=10, height=10, original_bytes=1000, sha256="c" * 64, original_etag="e",
        derivatives=[pb.Derivative(kind="web_jpg", key=f"web/{photo.id}.jpg", width=10, height=10, bytes=10,
                                   content_type="image/jpeg")]))
    photos.update_photo(pb.UpdatePhotoRequest(photo_id=photo.id, price_minor=800, currency="EUR",
                                              visibility=photo_visibility), user=owner)
    return photo.id


@pytest.mark.parametrize("photo_visibility", [pb.VISIBILITY_PUBLIC, pb.VISIBILITY_UNSPECIFIED])
def test_a_buyer_who_cannot_see_the_private_event_gets_a_404_and_pays_nothing(
        sidecar: SidecarProcess, world: Any, photo_visibility: pb.Visibility,
        made_events: MadeEvents) -> None:
    world.service.catalog = GrpcPhotoCatalog(photo_client(sidecar, "photostack-transactions"))
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", world.user("c")
    pid = private_event_photo(sidecar, owner, photo_visibility=photo_visibility, made=made_events)
    world.fund(buyer, 5000)
    before = world.footprint(buyer)
    with pytest.raises(Missing) as refused:
        world.order(buyer, pid)
    assert refused.value.code == "photo_not_found"
    assert world.footprint(buyer) == before and world.balance(buyer) == 5000
    assert world.service.purchases(buyer, None, 10)["purchases"] == []
    # Its photographer sees it (and still cannot buy their own).
    with pytest.raises(NotPurchasable):
        world.order(owner, pid)
