"""Register the sidecar in Consul as ``photo-sidecar``, with a gRPC health check.

The registration uses the sidecar's own ACL token (``service:write`` on its own name only),
marks the service Connect-native (it terminates mTLS itself) and carries, in its Meta, the
serving certificates clients may trust (sidecar/transport.py): only this token can change them.
Consul calls the standard health service of this instance on its plaintext loopback health
port (the serving port requires a client certificate, which the agent's check cannot
present); when it answers
NOT_SERVING or not at all, the instance drops out of the healthy set that
``photostack.discovery`` reads. A crashed instance that never deregistered is
removed by Consul after ``DEREGISTER_AFTER``.
"""

from __future__ import annotations

from collections.abc import Callable

import consul
from photostack.contract import SIDECAR_GRPC_SERVICE, SIDECAR_SERVICE
from photostack.discovery import pin_meta
from photostack.jsonlog import get_logger

log = get_logger("sidecar.registration")

SERVICE_NAME = SIDECAR_SERVICE
HEALTH_SERVICE = SIDECAR_GRPC_SERVICE
CHECK_INTERVAL = "1s"
CHECK_TIMEOUT = "1s"
DEREGISTER_AFTER = "30s"


def consul_client(addr: str, timeout_s: float = 2.0, token: str = "") -> consul.Consul:
    host, _, port = addr.removeprefix("http://").partition(":")
    return consul.Consul(host=host or "127.0.0.1", port=int(port or 8500), connections_timeout=timeout_s,
                         token=token or None)


class Registration:
    def __init__(self, consul_addr: str, host: str, port: int, service: str = SERVICE_NAME, *,
                 health_port: int, token: str = "", pins: Callable[[], list[bytes]] = list) -> None:
        self._client = consul_client(consul_addr, token=token)
        self.host = host
        self.port = port
        self.health_port = health_port
        self._pins = pins
        self.service = service
        self.service_id = f"{service}-{host}-{port}"

    def try_register(self) -> bool:
        """Register (idempotent); False when the agent cannot be reached, to retry later."""
        try:
            self.register()
            return True
        except Exception as exc:
            log.warning("consul registration failed", extra={"error": str(exc)})
            return False

    def register(self) -> None:
        check = consul.Check.grpc(f"127.0.0.1:{self.health_port}/{HEALTH_SERVICE}", CHECK_INTERVAL,
                                  timeout=CHECK_TIMEOUT, deregister=DEREGISTER_AFTER)
        # Registered only once the server is serving: passing from the start, so callers find a
        # (re)started instance at once instead of after the first check interval.
        check["Status"] = "passing"
        self._client.agent.service.register(
            self.service, service_id=self.service_id, address=self.host, port=self.port,
            tags=["grpc", "photostack.photo.v1"], check=check, connect={"Native": True},
            meta={"health_port": str(self.health_port), **pin_meta(self._pins())},
        )
        log.debug("registered in consul", extra={"service_id": self.service_id})

    def deregister(self) -> None:
        try:
            self._client.agent.service.deregister(self.service_id)
            log.info("deregistered from consul", extra={"service_id": self.service_id})
        except Exception as exc:
            # Shutdown goes on: the failing health check removes the instance anyway.
            log.warning("consul deregistration failed", extra={"error": str(exc)})
