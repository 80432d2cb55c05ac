"""The gRPC-backed catalog against a real photo sidecar process (schema photos)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from photostack import errors
from photostack.discovery import ServiceResolver
from photostack.rpc import PhotoClient
from transactions.catalog_grpc import GrpcPhotoCatalog

from infra.db.migrate import migrate
from tests.e2e.transactions_setup import priced_photos
from tests.integration.transactions.conftest import s3, uploads_bucket
from tests.sidecar_process import SidecarProcess, free_port

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos", "transactions"])
    proc = SidecarProcess(workers=2).start()
    yield proc
    proc.stop()


def client_for(address: str) -> PhotoClient:
    return PhotoClient(ServiceResolver("photo-sidecar", consul_addr="", static_addr=address), deadline_s=2.0)


def test_catalog_reads_owner_price_and_key_from_the_sidecar(sidecar: SidecarProcess) -> None:
    client = client_for(sidecar.address)
    owner = f"ph-{uuid.uuid4().hex[:8]}"
    (priced,) = priced_photos(client, owner, 1, price_minor=1500)
    (unpriced,) = priced_photos(client, owner, 1, price_minor=None)
    found = GrpcPhotoCatalog(client).get_photos([priced, unpriced, str(uuid.uuid4()), "not-a-uuid"])
    assert set(found) == {priced, unpriced}
    photo = found[priced]
    assert (photo.owner_id, photo.price_minor, photo.currency, photo.for_sale) == (owner, 1500, "EUR", True)
    assert photo.original_key == f"originals/{photo.event_id}/{photo.photo_id}"
    assert found[unpriced].for_sale is False


def test_order_priced_by_the_real_sidecar(sidecar: SidecarProcess, world: Any) -> None:
    client = client_for(sidecar.address)
    owner, buyer = f"ph-{uuid.uuid4().hex[:8]}", world.user("c")
    (photo,) = priced_photos(client, owner, 1, price_minor=2000,
                             originals=(s3(), uploads_bucket()))
    world.service.catalog = GrpcPhotoCatalog(client)
    world.fund(buyer, 5000)
    order = world.order(buyer, photo)
    assert order["total_minor"] == 2000
    assert world.balance(owner, "earnings") == 1700
    assert world.service.download(buyer, photo)["photo_id"] == photo


def test_sidecar_down_is_a_503_and_changes_nothing(world: Any) -> None:
    buyer = world.user("c")
    world.fund(buyer, 5000)
    world.service.catalog = GrpcPhotoCatalog(client_for(f"127.0.0.1:{free_port()}"))
    before = world.footprint(buyer)
    with pytest.raises(errors.ServiceUnavailable):
        world.order(buyer, str(uuid.uuid4()))
    assert world.footprint(buyer) == before
