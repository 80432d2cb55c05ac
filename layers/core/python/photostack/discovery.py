"""Find healthy instances of a service: Consul when configured, a static address otherwise.

    resolver = get_resolver("photo-sidecar")
    address = resolver.pick()              # "host:port", round-robin over healthy instances
    resolver.forget(address)               # it just failed: skip it until the next refresh

A non-empty answer from Consul is cached for ``ttl_s`` seconds, so a warm function
asks Consul at most every few seconds. An empty answer is never cached for long: an
instance that is coming back (a restart) must be found within moments of passing its
health check, not after a cache expires (a cached "none" once made orders fail with 503
after the sidecar was back). When Consul cannot be reached, the last answer is reused
(an instance that fails is still forgotten); with no answer at all, :class:`NoInstances`
is raised. ``PHOTOSTACK_CONSUL_ADDR`` empty means no
Consul: the one address is ``PHOTOSTACK_SIDECAR_ADDR`` (the embedded default).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import consul
import requests

from photostack.config import get_settings
from photostack.jsonlog import get_logger

log = get_logger("discovery")

DEFAULT_TTL_S = 3.0
EMPTY_TTL_S = 0.1  # how long "no healthy instance" is believed: long enough not to hammer Consul
CONSUL_TIMEOUT_S = 1.0
PHOTO_SIDECAR = "photo-sidecar"


class NoInstances(Exception):
    """No healthy instance of the service is known."""


def _consul(addr: str, timeout_s: float) -> consul.Consul:
    host, _, port = addr.removeprefix("http://").partition(":")
    return consul.Consul(host=host or "127.0.0.1", port=int(port or 8500), connections_timeout=timeout_s)


class ServiceResolver:
    """Healthy addresses of one service, cached for a few seconds, handed out round-robin."""

    def __init__(self, service: str, *, consul_addr: str, static_addr: str, ttl_s: float = DEFAULT_TTL_S,
                 timeout_s: float = CONSUL_TIMEOUT_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self._static = static_addr
        self._consul = _consul(consul_addr, timeout_s) if consul_addr else None
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._addresses: list[str] | None = None
        self._fetched_at = 0.0
        self._turn = itertools.count()

    def _lookup(self) -> list[str]:
        assert self._consul is not None
        _, entries = self._consul.health.service(self.service, passing=True)
        found: list[str] = []
        for entry in entries:
            svc: dict[str, Any] = entry["Service"]
            host = svc.get("Address") or entry["Node"]["Address"]
            found.append(f"{host}:{svc['Port']}")
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
        with self._lock:
            self._addresses = None


# Resolvers live as long as the warm container, one per service name.
_resolvers: dict[str, ServiceResolver] = {}
_resolvers_lock = threading.Lock()


def get_resolver(service: str | None = None) -> ServiceResolver:
    """The resolver of ``service`` (default: the photo sidecar's name, PHOTOSTACK_SIDECAR_SERVICE)."""
    s = get_settings()
    service = service or s.sidecar_service
    with _resolvers_lock:
        if service not in _resolvers:
            _resolvers[service] = ServiceResolver(service, consul_addr=s.consul_addr,
                                                  static_addr=s.sidecar_addr)
        return _resolvers[service]


def reset_resolvers() -> None:
    """Forget every resolver (tests change the environment)."""
    with _resolvers_lock:
        _resolvers.clear()
