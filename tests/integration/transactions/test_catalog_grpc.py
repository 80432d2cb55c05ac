"""The gRPC-backed catalog against a real photo sidecar process (schema photos)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from photostack import errors
from photostack.discovery import ServiceResolver
from photostack.photo.v1 import photo_pb2 as pb
from photostack.rpc import PhotoClient
from transactions.catalog_grpc import GrpcPhotoCatalog

from infra.db.migrate import migrate
from tests.sidecar_process import SidecarProcess, free_port

pytestmark = pytest.mark.integration

PIPELINE = pb.Caller(user_id="service:upload", role="service")


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos"])
    proc = SidecarProcess(workers=2).start()
    yield proc
    proc.stop()


def client_for(address: str) -> PhotoClient:
    return PhotoClient(ServiceResolver("photo-sidecar", consul_addr="", static_addr=address), deadline_s=2.0)


def ready_photo(client: PhotoClient, owner: str, price: int | None, currency: str = "EUR") -> Any:
    caller = pb.Caller(user_id=owner, role="photographer")
    event = client.create_event(pb.CreateEventRequest(caller=caller, name="Finish line", date="2026-05-01",
                                                      visibility=pb.VISIBILITY_PUBLIC))
    photo = client.reserve_photo(pb.ReservePhotoRequest(caller=caller, event_id=event.id,
                                                        content_type="image/jpeg", declared_bytes=1000))
    client.register_derivatives(pb.RegisterDerivativesRequest(
        caller=PIPELINE, photo_id=photo.id, width=10, height=10, original_bytes=1000, sha256="a" * 64,
        derivatives=[pb.Derivative(kind="web", key=f"web/{photo.id}.jpg", width=10, height=10, bytes=100,
                                   content_type="image/jpeg")]))
    if price is not None:
        photo = client.update_photo(pb.UpdatePhotoRequest(caller=caller, photo_id=photo.id, price_minor=price,
                                                          currency=currency))
    return photo


def test_catalog_reads_owner_price_and_key_from_the_sidecar(sidecar: SidecarProcess) -> None:
    client = client_for(sidecar.address)
    owner = f"ph-{uuid.uuid4().hex[:8]}"
    priced, unpriced = ready_photo(client, owner, 1500), ready_photo(client, owner, None)
    found = GrpcPhotoCatalog(client).get_photos([priced.id, unpriced.id, str(uuid.uuid4()), "not-a-uuid"])
    assert set(found) == {priced.id, unpriced.id}
    photo = found[priced.id]
    assert (photo.owner_id, photo.price_minor, photo.currency, photo.for_sale) == (owner, 1500, "EUR", True)
    assert photo.original_key == f"originals/{photo.event_id}/{photo.photo_id}"
    assert found[unpriced.id].for_sale is False


def test_order_priced_by_the_real_sidecar(sidecar: SidecarProcess, world: Any) -> None:
    client = client_for(sidecar.address)
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", world.user("c")
    photo = ready_photo(client, owner, 2000)
    world.service.catalog = GrpcPhotoCatalog(client)
    world.fund(buyer, 5000)
    order = world.order(buyer, photo.id)
    assert order["total_minor"] == 2000
    assert world.balance(owner, "earnings") == 1700
    assert world.service.download(buyer, photo.id)["photo_id"] == photo.id


def test_sidecar_down_is_a_503_and_changes_nothing(world: Any) -> None:
    buyer = world.user("c")
    world.fund(buyer, 5000)
    world.service.catalog = GrpcPhotoCatalog(client_for(f"127.0.0.1:{free_port()}"))
    before = world.footprint(buyer)
    with pytest.raises(errors.ServiceUnavailable):
        world.order(buyer, str(uuid.uuid4()))
    assert world.footprint(buyer) == before
