"""Connect certificates rotate under load without a restart (a private Consul agent).

How a new leaf is forced, for real: the Connect CA is rotated (``PUT
/v1/connect/ca/configuration`` with a new private key type), which makes Consul generate a
new root and re-sign every service's leaf; the agent serves the new leaf, the sidecar picks
it up within seconds (dynamic server credentials) and the client rebuilds its channel when
its own certificate changes. Calls go on the whole time, and must all succeed. A shorter
``leaf_cert_ttl`` would be the other real way, but Consul refuses anything under an hour.

This runs against an agent of its own (same config as `make up`'s), so rotating its CA
disturbs no one.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient
from photostack.rpc import reset_channels
from photostack.rpc.connect import ConnectAgent, ConnectIdentity, Material

from infra.db.migrate import migrate
from tests.consul_agent import ConsulAgent
from tests.identity import person, resolver
from tests.sidecar_process import SidecarProcess, token_file

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def consul(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsulAgent]:
    agent = ConsulAgent(tmp_path_factory.mktemp("consul")).start()
    yield agent
    agent.stop()


@pytest.fixture(scope="module")
def sidecar(consul: ConsulAgent, database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos"])
    proc = SidecarProcess(consul_addr=consul.addr, consul_state=consul.state).start()
    yield proc
    proc.stop()


def served_certificate(sidecar: SidecarProcess, client: Material) -> x509.Certificate:
    """The certificate the sidecar presents to a new connection now (checked against Consul's pins)."""
    where = resolver(sidecar)
    assert sidecar.address in where.instances()
    pins = where.pinned(sidecar.address)
    assert pins is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = True
    context.load_verify_locations(cadata=pins.decode())
    context.set_alpn_protocols(["h2"])
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert.write_bytes(client.cert_pem)
        key.write_bytes(client.key_pem)
        context.load_cert_chain(cert, key)
    host, _, port = sidecar.address.partition(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=sidecar.service) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_a_ca_rotation_renews_every_certificate_and_no_call_fails(
        consul: ConsulAgent, sidecar: SidecarProcess) -> None:
    identity = ConnectIdentity(
        ConnectAgent(consul.addr, token_file("photostack-photos", consul.state).read_text().strip()),
        "photostack-photos", recheck_s=1.0)
    client = PhotoClient(resolver(sidecar), deadline_s=5.0, identity=identity)
    owner = person(f"rot-{uuid.uuid4().hex[:8]}", "photographer")
    event = client.create_event(pb.CreateEventRequest(name="Rotation", date="2025-06-01"), user=owner)
    first_client = identity.current()
    first_server = served_certificate(sidecar, first_client)
    old_root = consul.management("GET", "/v1/connect/ca/roots")["ActiveRootID"]

    config = consul.management("GET", "/v1/connect/ca/configuration")
    key_type = config["Config"].get("PrivateKeyType", "ec")
    consul.management("PUT", "/v1/connect/ca/configuration", {
        "Provider": "consul",
        "Config": {**config["Config"], "PrivateKeyType": "rsa" if key_type == "ec" else "ec",
                   "PrivateKeyBits": 2048 if key_type == "ec" else 256},
    })
    roots = consul.management("GET", "/v1/connect/ca/roots")
    assert roots["ActiveRootID"] != old_root

    calls = 0
    deadline = time.monotonic() + 60
    try:
        while True:
            # Every call succeeds, through the rotation (the client may reconnect, never fail).
            assert client.get_event(pb.GetEventRequest(event_id=event.id), user=owner).id == event.id
            calls += 1
            server = served_certificate(sidecar, identity.current())
            if (server.serial_number != first_server.serial_number
                    and identity.current().serial != first_client.serial):
                break
            assert time.monotonic() < deadline, "certificates were not renewed within 60 s"
            time.sleep(0.2)
    finally:
        reset_channels()
    # The client's leaf is now of the new root, the sidecar serves its renewed certificate (and
    # its own new leaf checks the client), and calls keep working on them.
    new_root = next(r for r in roots["Roots"] if r["ID"] == roots["ActiveRootID"])
    new_root_cert = x509.load_pem_x509_certificate(new_root["RootCert"].encode())
    client_leaf = x509.load_pem_x509_certificate(identity.current().cert_pem)
    assert client_leaf.issuer == new_root_cert.subject
    for _ in range(5):
        assert client.get_event(pb.GetEventRequest(event_id=event.id), user=owner).id == event.id
    assert calls > 0
