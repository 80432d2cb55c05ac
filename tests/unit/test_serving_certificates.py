"""The sidecar's serving certificates through a renewal (sidecar/transport.py).

A client trusts every certificate the sidecar's registration lists ([current, next, previous]) and
must connect to whichever of them is served, with Python's ssl (OpenSSL, the tests' probes) and
with gRPC (BoringSSL, the functions). Real TLS handshakes on loopback; no Consul.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from sidecar.transport import (
    SERVE_AFTER_PUBLISHED_S,
    ServingCertificate,
    ServingCertificates,
    issue_serving_certificate,
)
from tests.fake_clock import Clock

SERVICE = "photo-sidecar-test"
SPIFFE = "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/photo-sidecar-test"


@pytest.fixture(scope="module")
def two() -> tuple[ServingCertificate, ServingCertificate]:
    return issue_serving_certificate(SERVICE, SPIFFE, "0a"), issue_serving_certificate(SERVICE, SPIFFE, "0b")


@pytest.fixture
def tls_server(two: tuple[ServingCertificate, ServingCertificate]) -> Iterator[tuple[int, list[int]]]:
    """A TLS server presenting ``two[served[0]]``; the test sets ``served[0]``."""
    served = [0]
    with tempfile.TemporaryDirectory() as folder:
        contexts = []
        for i, cert in enumerate(two):
            Path(folder, f"{i}.pem").write_bytes(cert.cert_pem)
            Path(folder, f"{i}.key").write_bytes(cert.key_pem)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(Path(folder, f"{i}.pem"), Path(folder, f"{i}.key"))
            contexts.append(context)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with contexts[served[0]].wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], served
    listener.close()
    thread.join(timeout=2)


def listed(two: tuple[ServingCertificate, ServingCertificate], served: int, served_first: bool) -> bytes:
    other = 1 - served
    return b"".join(two[i].cert_pem for i in ((served, other) if served_first else (other, served)))


@pytest.mark.parametrize("served_first", [True, False], ids=["served-listed-first", "served-listed-second"])
@pytest.mark.parametrize("served_index", [0, 1])
def test_openssl_clients_trusting_both_accept_either(
        two: tuple[ServingCertificate, ServingCertificate], tls_server: tuple[int, list[int]],
        served_first: bool, served_index: int) -> None:
    port, served = tls_server
    served[0] = served_index
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=listed(two, served_index, served_first).decode())
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=SERVICE) as tls:
        assert tls.getpeercert(binary_form=True) is not None


@pytest.mark.parametrize("served_first", [True, False], ids=["served-listed-first", "served-listed-second"])
def test_grpc_clients_trusting_both_accept_either(
        two: tuple[ServingCertificate, ServingCertificate], served_first: bool) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    served = grpc.ssl_server_credentials([(two[1].key_pem, two[1].cert_pem)])
    port = server.add_secure_port("127.0.0.1:0", served)
    server.start()
    try:
        pins = listed(two, 1, served_first)
        with grpc.secure_channel(f"127.0.0.1:{port}", grpc.ssl_channel_credentials(root_certificates=pins),
                                 options=[("grpc.ssl_target_name_override", SERVICE)]) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        server.stop(None)


def test_a_renewed_certificate_is_served_only_after_it_was_published_long_enough() -> None:
    clock = Clock()
    certs = ServingCertificates(SERVICE, SPIFFE, "01", clock=clock)
    first = certs.current
    assert certs.pins() == [first.cert_pem] and not certs.update(SPIFFE, "01")

    assert certs.update(SPIFFE, "02")  # the leaf was renewed: a new certificate, published first
    waiting = certs.pins()[1]
    assert certs.current is first and certs.unpublished()
    clock.now += 60
    assert not certs.update(SPIFFE, "02") and certs.current is first  # never served before Consul has it

    certs.published()
    clock.now += SERVE_AFTER_PUBLISHED_S - 0.5
    assert not certs.update(SPIFFE, "02") and certs.current is first  # clients may still hold old pins
    clock.now += 0.5
    assert certs.update(SPIFFE, "02")
    assert certs.current.cert_pem == waiting and certs.pins() == [waiting, first.cert_pem]
    assert not certs.unpublished()


def test_a_leaf_renewed_again_before_serving_replaces_the_waiting_certificate() -> None:
    clock = Clock()
    certs = ServingCertificates(SERVICE, SPIFFE, "01", clock=clock)
    certs.update(SPIFFE, "02")
    certs.published()
    clock.now += 1
    assert certs.update(SPIFFE, "03")
    assert certs.unpublished() and certs.pins()[1] != certs.current.cert_pem
    assert certs.current.for_leaf == "01"
    clock.now += SERVE_AFTER_PUBLISHED_S  # its wait starts only when it is published
    assert not certs.update(SPIFFE, "03")
    certs.published()
    clock.now += SERVE_AFTER_PUBLISHED_S
    assert certs.update(SPIFFE, "03") and certs.current.for_leaf == "03"
