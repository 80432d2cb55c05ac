"""The sidecar process over gRPC: reflection, health, deadlines, graceful shutdown."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import grpc
import psycopg2
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc

from infra.db.migrate import migrate
from tests.sidecar_process import SidecarProcess

pytestmark = pytest.mark.integration

OWNER = pb.Caller(user_id=f"grpc-{uuid.uuid4().hex[:8]}", role="photographer")
SERVICE = "photostack.photo.v1.PhotoService"


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos"])
    proc = SidecarProcess().start()
    yield proc
    proc.stop()


@pytest.fixture
def stub(sidecar: SidecarProcess) -> Iterator[pb_grpc.PhotoServiceStub]:
    with grpc.insecure_channel(sidecar.address) as channel:
        yield pb_grpc.PhotoServiceStub(channel)


def reserve(stub: pb_grpc.PhotoServiceStub) -> pb.Photo:
    event = stub.CreateEvent(pb.CreateEventRequest(caller=OWNER, name="G", date="2025-06-01"), timeout=5)
    return stub.ReservePhoto(
        pb.ReservePhotoRequest(caller=OWNER, event_id=event.id, content_type="image/jpeg", declared_bytes=9),
        timeout=5,
    )


def test_reflection_lists_and_describes_the_service(sidecar: SidecarProcess) -> None:
    with grpc.insecure_channel(sidecar.address) as channel:
        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE),
        ]
        listed, described = list(refl.ServerReflectionInfo(iter(requests), timeout=5))
    names = {s.name for s in listed.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names
    assert described.file_descriptor_response.file_descriptor_proto


def test_health_is_serving(sidecar: SidecarProcess) -> None:
    with grpc.insecure_channel(sidecar.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE):
            reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_status_codes(stub: pb_grpc.PhotoServiceStub) -> None:
    photo = reserve(stub)
    stranger = pb.Caller(user_id="x", role="customer")
    cases = [
        (stub.GetPhoto, pb.GetPhotoRequest(caller=stranger, photo_id=photo.id), grpc.StatusCode.NOT_FOUND),
        (
            stub.UpdatePhoto,
            pb.UpdatePhotoRequest(caller=OWNER, photo_id=photo.id, price_minor=-5),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            stub.RegisterDerivatives,
            pb.RegisterDerivativesRequest(caller=OWNER, photo_id=photo.id),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (stub.GetPhoto, pb.GetPhotoRequest(photo_id=photo.id), grpc.StatusCode.PERMISSION_DENIED),
    ]
    for method, request, code in cases:
        with pytest.raises(grpc.RpcError) as caught:
            method(request, timeout=5)
        assert caught.value.code() == code


def _lock_row(database_url: str, photo_id: str, hold_s: float, locked: threading.Event) -> threading.Thread:
    def hold() -> None:
        conn = psycopg2.connect(database_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT 1 FROM photos.photos WHERE id = %s FOR UPDATE", (photo_id,))
                locked.set()
                time.sleep(hold_s)
        finally:
            conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(5)
    return thread


def test_a_call_ends_at_its_deadline_and_frees_its_connection(
    stub: pb_grpc.PhotoServiceStub, database_url: str
) -> None:
    photo = reserve(stub)
    locked = threading.Event()
    holder = _lock_row(database_url, photo.id, 2.0, locked)
    start = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpdatePhoto(pb.UpdatePhotoRequest(caller=OWNER, photo_id=photo.id, currency="EUR"), timeout=0.5)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - start < 1.0
    holder.join()
    # The server-side statement was cancelled too: the row is free and the pool healthy.
    updated = stub.UpdatePhoto(
        pb.UpdatePhotoRequest(caller=OWNER, photo_id=photo.id, currency="EUR"), timeout=2
    )
    assert updated.currency == "EUR"


def test_graceful_shutdown_drains_in_flight_calls(database_url: str) -> None:
    proc = SidecarProcess().start()
    try:
        with grpc.insecure_channel(proc.address) as channel:
            stub = pb_grpc.PhotoServiceStub(channel)
            photo = reserve(stub)
            locked = threading.Event()
            holder = _lock_row(database_url, photo.id, 1.0, locked)
            future = stub.UpdatePhoto.future(
                pb.UpdatePhotoRequest(caller=OWNER, photo_id=photo.id, currency="USD"), timeout=5
            )
            time.sleep(0.2)  # the call is in flight, waiting for the row lock
            assert proc.proc is not None
            stopper = threading.Thread(target=proc.stop)
            stopper.start()
            assert future.result().currency == "USD"
            stopper.join()
            holder.join()
    finally:
        proc.kill()
