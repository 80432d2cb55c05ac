"""Nothing reaches the sidecar without a verified identity (real Consul, real sidecar process).

The service: mutual TLS with a Consul Connect certificate, allowed by Consul's intentions,
and allowed the method by the sidecar's table. The person: their access token, verified.
And Consul itself refuses a rogue registration under the sidecar's name.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from photostack.account_status import KEY_PREFIX
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc
from photostack.rpc import channels
from photostack.rpc.connect import ConnectAgent, ConnectIdentity

from infra.db.migrate import migrate
from tests.identity import bearer, connect_identity, person, photo_client, resolver, secure_channel
from tests.sidecar_process import CONSUL_ADDR, CONSUL_STATE, SidecarProcess, token_file

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos"])
    proc = SidecarProcess().start()
    yield proc
    proc.stop()


def refused(call: grpc.UnaryUnaryMultiCallable, request: object, **kwargs: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=5, **kwargs)
    return caught.value


def pins_of(sidecar: SidecarProcess) -> bytes:
    """The serving certificate Consul lists for the sidecar (what a real client trusts)."""
    where = resolver(sidecar)
    assert sidecar.address in where.instances()
    pins = where.pinned(sidecar.address)
    assert pins is not None
    return pins


def photos_stub(channel: grpc.Channel) -> pb_grpc.PhotoServiceStub:
    return pb_grpc.PhotoServiceStub(channel)


# --- the service -------------------------------------------------------------------------------

def test_a_plaintext_call_is_refused(sidecar: SidecarProcess) -> None:
    with grpc.insecure_channel(sidecar.address) as plain:
        error = refused(photos_stub(plain).ListEvents, pb.ListEventsRequest(),
                        metadata=bearer(person("p", "customer")))
    # The TLS server never gets an HTTP/2 request it could answer.
    assert error.code() == grpc.StatusCode.UNAVAILABLE


def self_signed(spiffe_id: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "photostack-photos")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


def test_a_self_signed_certificate_is_refused(sidecar: SidecarProcess) -> None:
    # The right name in the right form, but not signed by the Connect CA.
    real = connect_identity("photostack-photos").current()
    key, cert = self_signed(real.spiffe_id)
    creds = grpc.ssl_channel_credentials(root_certificates=pins_of(sidecar), private_key=key,
                                         certificate_chain=cert)
    with grpc.secure_channel(sidecar.address, creds, options=channels.options(sidecar.service)) as forged:
        error = refused(photos_stub(forged).ListEvents, pb.ListEventsRequest(),
                        metadata=bearer(person("p", "customer")))
    assert error.code() == grpc.StatusCode.UNAVAILABLE  # the handshake fails: no call at all


def test_a_service_the_intentions_deny_is_refused(sidecar: SidecarProcess) -> None:
    # A real Connect certificate, for a service that has no intention to reach the sidecar
    # (the users API never calls it). Minted here with the management token, as an intruder
    # who got hold of some service's token could.
    management = (CONSUL_STATE / "management.token").read_text().strip()
    users = ConnectIdentity(ConnectAgent(CONSUL_ADDR, management), "photostack-users").current()
    with channels.secure_channel(sidecar.address, users, pins_of(sidecar), sidecar.service) as ch:
        error = refused(photos_stub(ch).ListEvents, pb.ListEventsRequest(),
                        metadata=bearer(person("p", "admin")))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "'photostack-users' may not call photo-sidecar" in (error.details() or "")


@pytest.mark.parametrize(("service", "method", "request_", "code", "message"), [
    # upload and faces act on their own, only on their own methods
    ("photostack-upload", "ListEvents", pb.ListEventsRequest(), grpc.StatusCode.PERMISSION_DENIED,
     "'photostack-upload' may not call /photostack.photo.v1.PhotoService/ListEvents"),
    ("photostack-faces", "RegisterDerivatives", pb.RegisterDerivativesRequest(photo_id=str(uuid.uuid4())),
     grpc.StatusCode.PERMISSION_DENIED, "may not call"),
    ("photostack-transactions", "GetPhoto", pb.GetPhotoRequest(photo_id=str(uuid.uuid4())),
     grpc.StatusCode.UNAUTHENTICATED, "acts for a person"),  # only as the buyer
    ("photostack-transactions", "UpdatePhoto", pb.UpdatePhotoRequest(photo_id=str(uuid.uuid4())),
     grpc.StatusCode.PERMISSION_DENIED, "may not call"),
    # the photos API acts only for people
    ("photostack-photos", "ListEvents", pb.ListEventsRequest(), grpc.StatusCode.UNAUTHENTICATED,
     "send their access token"),
    ("photostack-photos", "IndexFaces", pb.IndexFacesRequest(photo_id=str(uuid.uuid4())),
     grpc.StatusCode.PERMISSION_DENIED, "may not call"),
])
def test_each_service_gets_only_its_methods(sidecar: SidecarProcess, service: str, method: str,
                                            request_: object, code: grpc.StatusCode, message: str) -> None:
    with secure_channel(sidecar, service) as ch:
        error = refused(getattr(photos_stub(ch), method), request_)
    assert error.code() == code
    assert message in (error.details() or "")


def test_a_service_may_not_use_a_person_for_what_it_may_not_do_for_them(sidecar: SidecarProcess) -> None:
    with secure_channel(sidecar, "photostack-transactions") as ch:
        error = refused(photos_stub(ch).UpdatePhoto, pb.UpdatePhotoRequest(photo_id=str(uuid.uuid4())),
                        metadata=bearer(person("p", "photographer")))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "on a user's behalf" in (error.details() or "")


# --- the person --------------------------------------------------------------------------------

def test_the_person_is_whoever_the_token_says_and_nobody_else(sidecar: SidecarProcess) -> None:
    alice, bob = f"alice-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    with secure_channel(sidecar, "photostack-photos") as ch:
        stub = photos_stub(ch)
        # Bob's event, created with Bob's token: the owner comes from the token.
        event = stub.CreateEvent(pb.CreateEventRequest(name="Bob's", date="2025-06-01",
                                                       visibility=pb.VISIBILITY_PRIVATE),
                                 timeout=5, metadata=bearer(person(bob, "photographer")))
        assert event.owner_id == bob
        # Alice's token cannot see or act on it, however the request is dressed.
        as_alice = bearer(person(alice, "photographer"))
        assert refused(stub.GetEvent, pb.GetEventRequest(event_id=event.id),
                       metadata=as_alice).code() == grpc.StatusCode.NOT_FOUND
        reserve = pb.ReservePhotoRequest(event_id=event.id, content_type="image/jpeg", declared_bytes=9)
        assert refused(stub.ReservePhoto, reserve, metadata=as_alice).code() in (
            grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)
        # The old request field is gone: it cannot even be sent.
        with pytest.raises(ValueError):
            pb.ListEventsRequest(caller=None)  # type: ignore[call-arg]


def test_a_disabled_account_or_a_revoked_token_is_refused_by_the_sidecar_itself(
        sidecar: SidecarProcess, database_url: str, redis_client: Any) -> None:
    """Same rules as the functions: a valid signature is not enough (PostgreSQL is the record)."""
    import psycopg2

    migrate(database_url, ["users"])
    user_id = str(uuid.uuid4())
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO users.users (id, email, display_name, role, password_hash) "
                        "VALUES (%s, %s, 'Dee', 'photographer', 'x')", (user_id, f"{user_id}@example.com"))
        before = bearer(person(user_id, "photographer"))
        with secure_channel(sidecar, "photostack-photos") as ch:
            stub = photos_stub(ch)
            listed = stub.ListEvents(pb.ListEventsRequest(limit=1), timeout=5, metadata=before)
            assert listed is not None
            with conn, conn.cursor() as cur:  # a password change raises the version: older tokens die
                cur.execute("UPDATE users.users SET token_version = token_version + 1 WHERE id = %s",
                            (user_id,))
            redis_client.delete(KEY_PREFIX + user_id)  # as the users service does on a change
            deadline = time.monotonic() + 10  # past the sidecar's short in-process cache
            while True:
                try:
                    stub.ListEvents(pb.ListEventsRequest(limit=1), timeout=5, metadata=before)
                except grpc.RpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, exc
                    assert "revoked" in (exc.details() or ""), exc.details()
                    break
                assert time.monotonic() < deadline, "a revoked token kept working at the sidecar"
                time.sleep(0.5)
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM users.users WHERE id = %s", (user_id,))
        conn.close()


def forged_token(user_id: str, role: str) -> str:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"sub": user_id, "role": role, "iss": "photostack-users", "aud": "photostack", "iat": now,
              "nbf": now, "exp": now + 300, "jti": uuid.uuid4().hex, "ver": 0}
    # The default this repository once shipped: anyone could sign with it.
    return jwt.encode(claims, "local-development-only-secret-change-me!", algorithm="HS256",
                      headers={"kid": "local-1"})


@pytest.mark.parametrize("metadata", [
    (("authorization", "Bearer not-a-jwt"),),
    (("authorization", "Basic dXNlcjpwYXNz"),),
    (("authorization", f"Bearer {forged_token('someone', 'admin')}"),),
])
def test_a_bad_or_forged_token_is_unauthenticated(sidecar: SidecarProcess,
                                                   metadata: tuple[tuple[str, str], ...]) -> None:
    with secure_channel(sidecar, "photostack-photos") as ch:
        error = refused(photos_stub(ch).ListEvents, pb.ListEventsRequest(), metadata=metadata)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


# --- Consul ------------------------------------------------------------------------------------

@pytest.mark.parametrize("token_of", [None, "photostack-upload", "photostack-photos", "photostack-operator"])
def test_a_rogue_registration_under_the_sidecars_name_is_refused(token_of: str | None) -> None:
    headers = {"X-Consul-Token": token_file(token_of).read_text().strip()} if token_of else {}
    rogue = {"Name": "photo-sidecar", "ID": f"rogue-{uuid.uuid4().hex[:8]}", "Address": "127.0.0.1",
             "Port": 6666}
    reply = requests.put(f"http://{CONSUL_ADDR}/v1/agent/service/register", json=rogue, headers=headers,
                         timeout=5)
    assert reply.status_code == 403, reply.text
    assert "Permission denied" in reply.text
    listed = requests.get(f"http://{CONSUL_ADDR}/v1/health/service/photo-sidecar", timeout=5,
                          headers={"X-Consul-Token": token_file("photostack-photos").read_text().strip()})
    assert all(entry["Service"]["Port"] != 6666 for entry in listed.json())


def test_without_a_token_consul_shows_nothing_and_signs_nothing() -> None:
    reply = requests.get(f"http://{CONSUL_ADDR}/v1/health/service/photo-sidecar", timeout=5)
    assert reply.status_code == 200 and reply.json() == []  # default deny: filtered out
    # A certificate for a name the agent does not hold yet needs service:write on that name.
    # (Consul 1.22 hands out a leaf it already holds from its cache without checking the
    # token: its HTTP port must stay on loopback; see sidecar/README.md.)
    fresh = f"photostack-nobody-{uuid.uuid4().hex[:8]}"
    reply = requests.get(f"http://{CONSUL_ADDR}/v1/agent/connect/ca/leaf/{fresh}", timeout=5)
    assert reply.status_code == 403
    reply = requests.get(f"http://{CONSUL_ADDR}/v1/agent/connect/ca/leaf/{fresh}", timeout=5, headers={
        "X-Consul-Token": token_file("photostack-upload").read_text().strip()})
    assert reply.status_code == 403


# --- coming back ---------------------------------------------------------------------------------

def test_a_warm_client_reaches_a_restarted_sidecar_within_two_seconds(database_url: str) -> None:
    """A restart brings a new serving certificate: the client's channel (pinned to the old one)
    fails its handshake, and the client asks Consul again, reconnects and is served, well inside
    one call's deadline (issue 19: within 2 s of the sidecar's return)."""
    proc = SidecarProcess().start()
    try:
        client = photo_client(proc, "photostack-photos", deadline_s=2.0)
        owner = person(f"back-{uuid.uuid4().hex[:8]}", "photographer")
        event = client.create_event(pb.CreateEventRequest(name="Back", date="2025-06-01"), user=owner)
        before = pins_of(proc)
        proc.stop()
        proc.start()  # same port; returns once Consul lists it again
        back = time.monotonic()
        # Not idempotent (no key), yet safe to send again: the old channel's handshake failed.
        again = client.create_event(pb.CreateEventRequest(name="Back again", date="2025-06-01"), user=owner)
        assert time.monotonic() - back < 2.0
        assert client.get_event(pb.GetEventRequest(event_id=event.id), user=owner).id == event.id
        assert again.owner_id == owner.user_id
        assert pins_of(proc) != before  # it did present a new certificate
    finally:
        proc.stop()
