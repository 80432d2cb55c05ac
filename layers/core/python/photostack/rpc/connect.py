"""This process's Consul Connect identity: its leaf certificate and the CA roots, kept fresh.

    agent = ConnectAgent("127.0.0.1:8500", token)
    identity = ConnectIdentity(agent, "photostack-upload")
    material = identity.current()     # cert, key, roots; refetched when due
    identity.refresh()                # now (a handshake just failed: the CA may have rotated)

Leaf certificates come from the local agent (``/v1/agent/connect/ca/leaf/<service>``, which
needs the service's Consul token with ``service:write`` on that name) and are signed by the
agent's Connect CA; the roots (``/v1/agent/connect/ca/roots``) are what a peer's certificate
must chain to. The agent renews a leaf well before it expires and re-signs it when the CA
rotates; this class asks again every ``recheck_s`` seconds (the agent answers from its cache)
and at once when the certificate it holds is close to expiry, so a new certificate is in use
within seconds, without a restart. ``fingerprint`` changes when the leaf or the roots do:
whoever built TLS credentials from the previous material rebuilds them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from photostack.config import get_settings
from photostack.discovery import consul_token_from_environment
from photostack.jsonlog import get_logger

log = get_logger("rpc.connect")

RECHECK_S = 10.0
EXPIRY_MARGIN_S = 60.0
AGENT_TIMEOUT_S = 2.0


class IdentityUnavailable(Exception):
    """No certificate could be had from the Consul agent (down, or the token is refused)."""


@dataclass(frozen=True)
class Material:
    service: str
    cert_pem: bytes      # the leaf (and any intermediates), PEM
    key_pem: bytes
    roots_pem: bytes     # every CA root Consul trusts now (the previous root too, after a rotation)
    serial: str
    spiffe_id: str       # spiffe://<trust domain>/ns/default/dc/<dc>/svc/<service>
    trust_domain: str
    valid_before: float  # epoch seconds

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.cert_pem + self.roots_pem).hexdigest()[:16]


def _epoch(rfc3339: str) -> float:
    return dt.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


class ConnectAgent:
    """The Connect endpoints of the local Consul agent, with one service's ACL token."""

    def __init__(self, addr: str, token: str, *, timeout_s: float = AGENT_TIMEOUT_S) -> None:
        self.base = "http://" + addr.removeprefix("http://")
        self._timeout_s = timeout_s
        self._http = requests.Session()
        if token:
            self._http.headers["X-Consul-Token"] = token

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            reply = self._http.request(method, self.base + path, json=body, timeout=self._timeout_s)
        except requests.RequestException as exc:
            raise IdentityUnavailable(f"consul agent unreachable: {exc}") from exc
        if reply.status_code != 200:
            raise IdentityUnavailable(f"consul {path}: {reply.status_code} {reply.text.strip()[:200]}")
        return reply.json()

    def leaf(self, service: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/v1/agent/connect/ca/leaf/{service}")
        return result

    def roots(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v1/agent/connect/ca/roots")
        return result

    def authorize(self, target: str, client_uri: str, client_serial: str) -> tuple[bool, str]:
        """Consul's intentions on a connection from ``client_uri`` to ``target``."""
        reply = self._request("POST", "/v1/agent/connect/authorize",
                              {"Target": target, "ClientCertURI": client_uri,
                               "ClientCertSerial": client_serial})
        return bool(reply.get("Authorized")), str(reply.get("Reason", ""))

    def close(self) -> None:
        self._http.close()


def material_of(service: str, leaf: dict[str, Any], roots: dict[str, Any]) -> Material:
    roots_pem = "".join(r["RootCert"].strip() + "\n" for r in roots["Roots"])
    return Material(
        service=service, cert_pem=leaf["CertPEM"].encode(), key_pem=leaf["PrivateKeyPEM"].encode(),
        roots_pem=roots_pem.encode(), serial=str(leaf["SerialNumber"]), spiffe_id=str(leaf["ServiceURI"]),
        trust_domain=str(roots["TrustDomain"]), valid_before=_epoch(leaf["ValidBefore"]),
    )


class ConnectIdentity:
    """The leaf certificate of ``service`` and the roots, refetched when due."""

    def __init__(self, agent: ConnectAgent, service: str, *, recheck_s: float = RECHECK_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.agent = agent
        self.service = service
        self._recheck_s = recheck_s
        self._clock = clock
        self._lock = threading.Lock()
        self._material: Material | None = None
        self._checked_at = 0.0

    def _due(self, now: float) -> bool:
        m = self._material
        return (m is None or now - self._checked_at >= self._recheck_s
                or now >= m.valid_before - EXPIRY_MARGIN_S)

    def current(self) -> Material:
        """The material to use now; raises IdentityUnavailable only when there is none at all."""
        with self._lock:
            if self._due(self._clock()):
                self._fetch()
            assert self._material is not None
            return self._material

    def cached(self) -> Material | None:
        """What :meth:`current` last answered, without asking the agent."""
        with self._lock:
            return self._material

    def refresh(self) -> Material:
        with self._lock:
            self._fetch()
            assert self._material is not None
            return self._material

    def _fetch(self) -> None:
        now = self._clock()
        try:
            fresh = material_of(self.service, self.agent.leaf(self.service), self.agent.roots())
        except (IdentityUnavailable, KeyError, ValueError) as exc:
            usable = self._material is not None and now < self._material.valid_before
            if not usable:
                raise IdentityUnavailable(f"no Connect certificate for {self.service}: {exc}") from exc
            # The agent is briefly away: keep the certificate we hold while it is valid.
            log.warning("connect: keeping the current certificate", extra={"error": str(exc)})
            self._checked_at = now
            return
        if self._material is None or fresh.fingerprint != self._material.fingerprint:
            log.info("connect: certificate in use", extra={"service": self.service, "serial": fresh.serial,
                                                           "valid_before": fresh.valid_before})
        self._material = fresh
        self._checked_at = now


# --- this process's identity, from the environment -------------------------------------------
#
# PHOTOSTACK_CONNECT_SERVICE  this function's Connect service name (template.yaml sets it per
#                             function, e.g. photostack-upload); no default: an unnamed process
#                             has no identity and cannot call the sidecar.
# PHOTOSTACK_CONSUL_TOKEN     its Consul ACL token (or PHOTOSTACK_CONSUL_TOKEN_FILE, a file
#                             holding it: the sidecar and the tests read .state/consul/tokens/);
#                             see photostack.discovery.

def identity_from_environment() -> ConnectIdentity:
    settings = get_settings()
    service = settings.connect_service
    if not service:
        raise IdentityUnavailable("PHOTOSTACK_CONNECT_SERVICE is not set: no Connect identity")
    if not settings.consul_addr:
        raise IdentityUnavailable("PHOTOSTACK_CONSUL_ADDR is not set: no agent to get a certificate from")
    return ConnectIdentity(ConnectAgent(settings.consul_addr, consul_token_from_environment()), service)
