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
from tests.identity import bearer, person, secure_channel
from tests.sidecar_process import SidecarProcess

pytestmark = pytest.mark.integration

OWNER_ID = f"grpc-{uuid.uuid4().hex[:8]}"


def owner() -> tuple[tuple[str, str], ...]:
    """The photographer's access token as call metadata (issued when a test runs, not at import)."""
    return bearer(person(OWNER_ID, "photographer"))
SERVICE = "photostack.photo.v1.PhotoService"


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos"])
    proc = SidecarProcess().start()
    yield proc
    proc.stop()


@pytest.fixture
def stub(sidecar: SidecarProcess) -> Iterator[pb_grpc.PhotoServiceStub]:
    with secure_channel(sidecar, "photostack-photos") as channel:
        yield pb_grpc.PhotoServiceStub(channel)


def reserve(stub: pb_grpc.PhotoServiceStub) -> pb.Photo:
    event = stub.CreateEvent(pb.CreateEventRequest(name="G", date="2025-06-01"), timeout=5, metadata=owner())
    return stub.ReservePhoto(
        pb.ReservePhotoRequest(event_id=event.id, content_type="image/jpeg", declared_bytes=9),
        timeout=5, metadata=owner(),
    )


def test_reflection_lists_and_describes_the_service(sidecar: SidecarProcess) -> None:
    with secure_channel(sidecar, "photostack-operator") as channel:
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
    # Over mTLS for the functions, and in plaintext on the loopback health port for Consul.
    with secure_channel(sidecar, "photostack-photos") as tls, \
            grpc.insecure_channel(sidecar.health_address) as plain:
        for channel in (tls, plain):
            health = health_pb2_grpc.HealthStub(channel)
            for name in ("", SERVICE):
                reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_the_health_port_answers_nothing_but_the_health_check(sidecar: SidecarProcess) -> None:
    with grpc.insecure_channel(sidecar.health_address) as plain:
        with pytest.raises(grpc.RpcError) as caught:
            pb_grpc.PhotoServiceStub(plain).ListEvents(pb.ListEventsRequest(), timeout=5, metadata=owner())
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "client certificate is required" in (caught.value.details() or "")
        refl = reflection_pb2_grpc.ServerReflectionStub(plain)
        with pytest.raises(grpc.RpcError) as caught:
            list(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                           timeout=5))
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_status_codes(stub: pb_grpc.PhotoServiceStub) -> None:
    photo = reserve(stub)
    stranger = bearer(person("x", "customer"))
    cases = [
        (stub.GetPhoto, pb.GetPhotoRequest(photo_id=photo.id), stranger, grpc.StatusCode.NOT_FOUND),
        (stub.UpdatePhoto, pb.UpdatePhotoRequest(photo_id=photo.id, price_minor=-5), owner(),
         grpc.StatusCode.INVALID_ARGUMENT),
        # The photos API may not register derivatives, for anyone.
        (stub.RegisterDerivatives, pb.RegisterDerivativesRequest(photo_id=photo.id), owner(),
         grpc.StatusCode.PERMISSION_DENIED),
        # A person's method without the person's token.
        (stub.GetPhoto, pb.GetPhotoRequest(photo_id=photo.id), None, grpc.StatusCode.UNAUTHENTICATED),
    ]
    for method, request, metadata, code in cases:
        with pytest.raises(grpc.RpcError) as caught:
            method(request, timeout=5, metadata=metadata)
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
        stub.UpdatePhoto(pb.UpdatePhotoRequest(photo_id=photo.id, currency="EUR"), timeout=0.5,
                         metadata=owner())
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - start < 1.0
    holder.join()
    # The server-side statement was cancelled too: the row is free and the pool healthy.
    updated = stub.UpdatePhoto(pb.UpdatePhotoRequest(photo_id=photo.id, currency="EUR"), timeout=2,
                               metadata=owner())
    assert updated.currency == "EUR"


def test_graceful_shutdown_drains_in_flight_calls(database_url: str) -> None:
    proc = SidecarProcess().start()
    try:
        with secure_channel(proc, "photostack-photos") as channel:
            stub = pb_grpc.PhotoServiceStub(channel)
            photo = reserve(stub)
            locked = threading.Event()
            holder = _lock_row(database_url, photo.id, 1.0, locked)
            future = stub.UpdatePhoto.future(
                pb.UpdatePhotoRequest(photo_id=photo.id, currency="USD"), timeout=5, metadata=owner()
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
