"""Find healthy instances of a service: Consul when configured, a static address otherwise.

    resolver = get_resolver("photo-sidecar")
    address = resolver.pick()              # "host:port", round-robin over healthy instances
    resolver.forget(address)               # it just failed: skip it until the next refresh

A non-empty answer from Consul is cached for ``ttl_s`` seconds, so a warm function
asks Consul at most every few seconds. An empty answer is never cached for long: an
instance that is coming back (a restart) must be found within moments of passing its
health check, not after a cache expires (a cached "none" once made orders fail with 503
after the sidecar was back); :meth:`ServiceResolver.invalidate` (the client calls it on
UNAVAILABLE) makes the next pick ask Consul again. When Consul cannot be reached, the last
answer is reused (an instance that fails is still forgotten); with no answer at all,
:class:`NoInstances` is raised. ``PHOTOSTACK_CONSUL_ADDR`` empty means no Consul: the one
address is ``PHOTOSTACK_SIDECAR_ADDR`` (the address is only where to dial: who answers is
checked by mTLS, photostack.rpc).

Consul runs with ACLs (default deny): the resolver reads with this process's token,
``PHOTOSTACK_CONSUL_TOKEN`` or the file named by ``PHOTOSTACK_CONSUL_TOKEN_FILE``.
"""

from __future__ import annotations

import base64
import itertools
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import consul
import requests

from photostack.config import get_settings
from photostack.jsonlog import get_logger

log = get_logger("discovery")

DEFAULT_TTL_S = 3.0
EMPTY_TTL_S = 0.1  # how long "no healthy instance" is believed: long enough not to hammer Consul
CONSUL_TIMEOUT_S = 1.0


# --- the sidecar's serving certificates, pinned through its Consul registration --------------
#
# A Connect leaf names its service only as a SPIFFE URI, and gRPC Python checks the server's
# certificate against a host name, with no hook for a URI. So the sidecar serves a certificate
# of its own (EC P-256, self-signed, DNS name = its Consul service name, its SPIFFE id too) and
# publishes it in the Meta of its Consul registration, which only its own ACL token may write.
# A client trusts exactly the certificates Consul lists for the instance it dials (the current
# one and, across a renewal, the previous one) and checks the name. Client certificates are
# still Connect leaves, checked by the sidecar against the Connect CA and the intentions.

PIN_META_PREFIX = "tls_pin_"
_META_CHUNK = 500  # Consul allows 512 characters per Meta value


def pin_meta(certificates_pem: list[bytes]) -> dict[str, str]:
    """Registration Meta that carries ``certificates_pem`` (base64 DER, chunked)."""
    text = "\n".join(base64.b64encode(ssl.PEM_cert_to_DER_cert(pem.decode())).decode()
                     for pem in certificates_pem)
    return {f"{PIN_META_PREFIX}{i}": text[start:start + _META_CHUNK]
            for i, start in enumerate(range(0, len(text), _META_CHUNK))}


def pins_from_meta(meta: dict[str, str] | None) -> bytes | None:
    """The pinned certificates (PEM, concatenated) from a registration's Meta; None without any."""
    chunks = []
    for i in range(64):
        chunk = (meta or {}).get(f"{PIN_META_PREFIX}{i}")
        if chunk is None:
            break
        chunks.append(chunk)
    if not chunks:
        return None
    try:
        return "".join(ssl.DER_cert_to_PEM_cert(base64.b64decode(line, validate=True))
                       for line in "".join(chunks).split("\n")).encode()
    except ValueError:
        return None


class NoInstances(Exception):
    """No healthy instance of the service is known."""


def consul_token_from_environment() -> str:
    """This process's Consul ACL token: PHOTOSTACK_CONSUL_TOKEN, or the file PHOTOSTACK_CONSUL_TOKEN_FILE
    (read when needed: make up may write it after this process read its settings)."""
    settings = get_settings()
    if not settings.consul_token and settings.consul_token_file:
        return Path(settings.consul_token_file).read_text().strip()
    return settings.consul_token


def _consul(addr: str, timeout_s: float, token: str) -> consul.Consul:
    host, _, port = addr.removeprefix("http://").partition(":")
    return consul.Consul(host=host or "127.0.0.1", port=int(port or 8500), connections_timeout=timeout_s,
                         token=token or None)


class ServiceResolver:
    """Healthy addresses of one service, cached for a few seconds, handed out round-robin."""

    def __init__(self, service: str, *, consul_addr: str, static_addr: str, ttl_s: float = DEFAULT_TTL_S,
                 timeout_s: float = CONSUL_TIMEOUT_S, clock: Callable[[], float] = time.monotonic,
                 token: str = "") -> None:
        self.service = service
        self._static = static_addr
        self._consul = _consul(consul_addr, timeout_s, token) if consul_addr else None
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._addresses: list[str] | None = None
        self._pins: dict[str, bytes] = {}
        self._fetched_at = 0.0
        self._turn = itertools.count()

    def _lookup(self) -> list[str]:
        assert self._consul is not None
        _, entries = self._consul.health.service(self.service, passing=True)
        found: list[str] = []
        for entry in entries:
            svc: dict[str, Any] = entry["Service"]
            host = svc.get("Address") or entry["Node"]["Address"]
            address = f"{host}:{svc['Port']}"
            found.append(address)
            pins = pins_from_meta(svc.get("Meta"))
            if pins is not None:
                self._pins[address] = pins
        return sorted(found)

    def instances(self) -> list[str]:
        if self._consul is None:
            return [self._static]
        with self._lock:
            now = self._clock()
            ttl = self._ttl_s if self._addresses else min(self._ttl_s, EMPTY_TTL_S)
            if self._addresses is not None and now - self._fetched_at < ttl:
                return list(self._addresses)
            try:
                self._addresses = self._lookup()
            except (consul.ConsulException, requests.RequestException, OSError, KeyError) as exc:
                if self._addresses is None:
                    raise NoInstances(f"consul unreachable and no known {self.service} instance") from exc
                log.warning("consul unreachable; reusing the last answer",
                            extra={"service": self.service, "error": str(exc)})
            self._fetched_at = now
            return list(self._addresses)

    def pinned(self, address: str) -> bytes | None:
        """The serving certificates Consul lists for ``address`` (PEM), as of the last lookup."""
        with self._lock:
            return self._pins.get(address)

    def pick(self, exclude: Iterable[str] = ()) -> str:
        skip = set(exclude)
        candidates = [a for a in self.instances() if a not in skip]
        if not candidates:
            raise NoInstances(f"no healthy {self.service} instance")
        return candidates[next(self._turn) % len(candidates)]

    def forget(self, address: str) -> None:
        """Drop an address that just failed, until the next lookup."""
        with self._lock:
            if self._addresses is not None and address in self._addresses:
                self._addresses = [a for a in self._addresses if a != address]

    def invalidate(self) -> None:
        """Ask Consul on the next pick (the last answer stays as the fallback if Consul is away)."""
        with self._lock:
            self._fetched_at = float("-inf")


# Resolvers live as long as the warm container, one per service name.
_resolvers: dict[str, ServiceResolver] = {}
_resolvers_lock = threading.Lock()


def get_resolver(service: str | None = None) -> ServiceResolver:
    """The resolver of ``service`` (default: the photo sidecar's name, PHOTOSTACK_SIDECAR_SERVICE)."""
    s = get_settings()
    service = service or s.sidecar_service
    with _resolvers_lock:
        if service not in _resolvers:
            _resolvers[service] = ServiceResolver(
                service, consul_addr=s.consul_addr, static_addr=s.sidecar_addr,
                token=consul_token_from_environment())
        return _resolvers[service]


def reset_resolvers() -> None:
    """Forget every resolver (tests change the environment)."""
    with _resolvers_lock:
        _resolvers.clear()
