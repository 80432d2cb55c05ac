"""How the sidecar's serving port is secured: mutual TLS, clients with Consul Connect leaves.

:class:`ConnectTransport` holds the sidecar's Connect identity (its leaf certificate and the
CA roots from the local agent, ``photostack.rpc.connect``) and the interceptor that checks
every caller (:mod:`sidecar.identity`). Client certificates are required and must chain to
the Connect CA's roots.

What the sidecar presents to clients: a Connect leaf names its service only as a SPIFFE URI,
which gRPC Python clients cannot check (they match a host name, and have no hook for a URI).
So the sidecar serves a certificate of its own, made here (EC P-256, DNS name = its Consul
service name, its SPIFFE id as a URI), and publishes it in its Consul registration, which only
its ACL token may write; clients trust exactly what Consul lists for the instance they dial
(``photostack.rpc.connect.pin_meta``). It is renewed together with the Connect leaf: the new one
is published first and served only once it has been in Consul longer than clients cache what they
read there (``SERVE_AFTER_PUBLISHED_S``); the previous one stays published until the next renewal.

Everything is re-read every few seconds (:meth:`refresh`, the server's prober thread) and each
new connection gets the current certificates (``dynamic_ssl_server_credentials``): a renewed
leaf or a rotated CA needs no restart. Open connections keep what they were opened with.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from photostack.discovery import DEFAULT_TTL_S
from photostack.jsonlog import get_logger
from photostack.rpc.connect import ConnectAgent, ConnectIdentity, IdentityUnavailable, Material

from sidecar.identity import Gate, IdentityInterceptor, Intentions

log = get_logger("sidecar.transport")

# How often the leaf certificate and the roots are asked of the agent (its cache answers).
CERT_RECHECK_S = 3.0
IDENTITY_WAIT_S = 20.0
SERVING_VALID = dt.timedelta(days=30)
# A client reads the pins with the addresses and keeps both for DEFAULT_TTL_S: a certificate served
# sooner after it was published would be refused by clients that looked just before (they recover
# only by a retry). The second is the margin for Consul's catalog to take the registration.
SERVE_AFTER_PUBLISHED_S = DEFAULT_TTL_S + 1.0


@dataclass(frozen=True)
class ServingCertificate:
    key_pem: bytes
    cert_pem: bytes
    for_leaf: str  # the serial of the Connect leaf it was made with


def issue_serving_certificate(service: str, spiffe_id: str, for_leaf: str) -> ServingCertificate:
    key = ec.generate_private_key(ec.SECP256R1())
    serial = x509.random_serial_number()
    # Each certificate gets a subject of its own and key identifiers: clients trust several at once
    # (current, next, previous), and OpenSSL and BoringSSL look a self-signed certificate up among
    # their trusted ones by subject. With one subject for all, the first listed was taken as the
    # issuer, its signature did not match and the handshake failed ("self-signed certificate"),
    # so a client holding [current, next] could not connect once next was served.
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service),
                      x509.NameAttribute(NameOID.SERIAL_NUMBER, f"{serial:x}")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + SERVING_VALID)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(service),
                                                        x509.UniformResourceIdentifier(spiffe_id)]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return ServingCertificate(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()),
        cert.public_bytes(serialization.Encoding.PEM), for_leaf)


def wait_for_identity(identity: ConnectIdentity, timeout_s: float) -> Material:
    """The first certificate; the agent may still be starting (make up starts both)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return identity.current()
        except IdentityUnavailable as exc:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"no Connect certificate from the Consul agent: {exc}") from exc
            time.sleep(0.5)


class ServingCertificates:
    """What the sidecar serves and publishes: the current certificate, a renewed one waiting to be
    served, and the one it replaced (still trusted by clients that read Consul before)."""

    def __init__(self, service: str, spiffe_id: str, leaf_serial: str, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.current = issue_serving_certificate(service, spiffe_id, leaf_serial)
        self._next: ServingCertificate | None = None
        self._next_published_at: float | None = None
        self._previous: ServingCertificate | None = None
        self._clock = clock

    def pins(self) -> list[bytes]:
        return [c.cert_pem for c in (self.current, self._next, self._previous) if c is not None]

    def update(self, spiffe_id: str, leaf_serial: str) -> bool:
        """Serve the waiting certificate once it has been published long enough, and make a new one
        when the leaf was renewed; True when :meth:`pins` changed (re-register)."""
        changed = False
        published_at = self._next_published_at
        if self._next is not None and published_at is not None \
                and self._clock() - published_at >= SERVE_AFTER_PUBLISHED_S:
            self._previous, self.current, self._next = self.current, self._next, None
            self._next_published_at = None
            changed = True
        if leaf_serial != (self._next or self.current).for_leaf:
            # A leaf renewed again before the last one was served replaces the one waiting.
            self._next = issue_serving_certificate(self.service, spiffe_id, leaf_serial)
            self._next_published_at = None
            changed = True
        return changed

    def unpublished(self) -> bool:
        return self._next is not None and self._next_published_at is None

    def published(self) -> None:
        """What :meth:`pins` answers is in Consul now: the waiting certificate's wait starts."""
        if self.unpublished():
            self._next_published_at = self._clock()


class ConnectTransport:
    def __init__(self, consul_addr: str, token: str, service: str, *,
                 identity_wait_s: float = IDENTITY_WAIT_S) -> None:
        if not consul_addr:
            raise ValueError("the sidecar needs a Consul agent (its Connect certificate and intentions)")
        self.service = service
        self.agent = ConnectAgent(consul_addr, token)
        self.identity = ConnectIdentity(self.agent, service, recheck_s=CERT_RECHECK_S)
        leaf = wait_for_identity(self.identity, identity_wait_s)
        self._leaf = leaf
        self._serving = ServingCertificates(service, leaf.spiffe_id, leaf.serial)
        self._served = (self._serving.current.cert_pem, leaf.roots_pem)
        self.interceptor = IdentityInterceptor(
            Gate(Intentions(self.agent, service), lambda: self._leaf.trust_domain))

    def _configuration(self) -> Any:
        current = self._serving.current
        return grpc.ssl_server_certificate_configuration(
            [(current.key_pem, current.cert_pem)], root_certificates=self._leaf.roots_pem)

    def add_port(self, server: grpc.Server, address: str) -> int:
        credentials = grpc.dynamic_ssl_server_credentials(
            self._configuration(), self._configuration_if_changed, require_client_authentication=True)
        return int(server.add_secure_port(address, credentials))

    def _configuration_if_changed(self) -> Any:
        """Called by gRPC for each new connection: new certificates if they changed, else None."""
        served = (self._serving.current.cert_pem, self._leaf.roots_pem)  # no I/O here: refresh() does it
        if served == self._served:
            return None
        self._served = served
        log.info("serving new certificates", extra={"leaf_serial": self._leaf.serial})
        return self._configuration()

    def pins(self) -> list[bytes]:
        """The serving certificates clients may trust now (published in the registration)."""
        return self._serving.pins()

    def refresh(self) -> bool:
        """Re-read the leaf and roots; True when the published certificates changed (re-register)."""
        try:
            self._leaf = self.identity.current()
        except IdentityUnavailable as exc:
            log.warning("no Connect certificate now", extra={"error": str(exc)})
            return False
        return self._serving.update(self._leaf.spiffe_id, self._leaf.serial)

    def unpublished(self) -> bool:
        """A renewed serving certificate waits to be published (re-register until it is)."""
        return self._serving.unpublished()

    def published(self) -> None:
        self._serving.published()

    def describe(self) -> dict[str, str]:
        return {"spiffe_id": self._leaf.spiffe_id}

    def close(self) -> None:
        self.agent.close()
