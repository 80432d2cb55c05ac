"""Wire the photo sidecar: servicer, health, reflection, interceptors, mTLS, shutdown.

A bounded thread pool serves calls; beyond ``max_concurrent_rpcs`` waiting calls
the server answers RESOURCE_EXHAUSTED instead of queueing without bound. Stopping
marks the instance NOT_SERVING, deregisters it from Consul, drains in-flight
calls for ``grace_s`` and closes the pools.

Two ports, one server: ``port`` serves mutual TLS with the Consul Connect leaf certificate
(client certificates required, identities checked by :mod:`sidecar.identity`), and
``health_port``, plaintext on loopback, where only ``grpc.health.v1.Health/Check`` answers:
Consul's gRPC check cannot present a client certificate, and probing the same server (not a
TTL the process reports about itself) is what tells Consul that calls are actually served.
The certificate and its renewal: sidecar/transport.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import grpc
import redis
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from photostack.db import Database
from photostack.jsonlog import elapsed_ms, get_logger
from photostack.photo.v1 import photo_pb2, photo_pb2_grpc

from sidecar.bib_service import BibService
from sidecar.cache import PhotoCache
from sidecar.face_service import FaceService
from sidecar.registration import HEALTH_SERVICE, SERVICE_NAME, Registration
from sidecar.repository import Repository
from sidecar.service import PhotoService
from sidecar.servicer import PhotoServicer
from sidecar.transport import ConnectTransport

log = get_logger("sidecar.server")

SLOW_CALL_MS = 250.0
HEALTH_PROBE_S = 2.0
# Re-registering is idempotent; repeating it brings the instance back after a
# Consul agent restart (a dev agent forgets its services).
REREGISTER_EVERY = 5
@dataclass(frozen=True)
class SidecarConfig:
    database_url: str
    redis_url: str
    consul_addr: str  # the local agent: Connect certificates, intentions, registration
    consul_token: str = ""  # this service's ACL token
    register: bool = True
    service_name: str = SERVICE_NAME
    host: str = "127.0.0.1"
    port: int = 50051
    health_port: int = 0  # plaintext, loopback, health check only; 0: any free port
    pins_file: str = ""  # where to write the serving certificates (public) for operators' tools
    workers: int = 16
    max_concurrent_rpcs: int = 256
    grace_s: float = 5.0
    cache_ttl_s: int = 60


class AccessLog(grpc.ServerInterceptor):
    """One log line for every failed or slow call."""

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = details.method

        def timed(request: Any, context: grpc.ServicerContext) -> Any:
            start = time.perf_counter()
            try:
                return inner(request, context)
            finally:
                ms = elapsed_ms(start)
                code = context.code() if hasattr(context, "code") else None
                if code not in (None, grpc.StatusCode.OK) or ms > SLOW_CALL_MS:
                    log.info("rpc", extra={"method": method, "code": str(code), "duration_ms": ms})

        return grpc.unary_unary_rpc_method_handler(
            timed, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)


class Transport(Protocol):
    """How the serving port is secured and callers identified (sidecar.transport.ConnectTransport)."""

    interceptor: grpc.ServerInterceptor

    def add_port(self, server: grpc.Server, address: str) -> int: ...
    def refresh(self) -> bool: ...  # True: what pins() answers changed
    def unpublished(self) -> bool: ...  # a renewed certificate is not in Consul yet
    def published(self) -> None: ...  # pins() is in Consul now (it may start serving a new one later)
    def pins(self) -> list[bytes]: ...  # serving certificates clients may trust (Consul Meta)
    def describe(self) -> dict[str, str]: ...
    def close(self) -> None: ...


# Connections kept open between calls (opened at start): the concurrency a sidecar serves most
# of the time; calls beyond it still get a connection (up to ``workers``), opened on demand.
KEPT_CONNECTIONS = 4


class Sidecar:
    def __init__(self, config: SidecarConfig, transport: Transport | None = None) -> None:
        self.config = config
        self.transport = transport or ConnectTransport(config.consul_addr, config.consul_token,
                                                       config.service_name)
        # psycopg2's pool closes a returned connection when it already holds minconn idle ones:
        # with minconn=1, two calls at once meant a new PgBouncer connection for one of them
        # (psycopg2.connect was 9 % of a sidecar's samples serving the photo page under ab -c 32).
        self._db = Database(config.database_url, schema="photos",
                            minconn=min(config.workers, KEPT_CONNECTIONS), maxconn=config.workers)
        self._repo = Repository(self._db)
        self._cache = PhotoCache(
            redis.Redis.from_url(config.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5,
                                 health_check_interval=30),
            ttl_s=config.cache_ttl_s)
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="rpc"),
            interceptors=[AccessLog(), self.transport.interceptor],
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
            options=[("grpc.so_reuseport", 0)],
        )
        photos = PhotoService(self._repo, self._cache)
        servicer = PhotoServicer(photos, FaceService(self._repo, self._cache, photos),
                                 BibService(self._repo, photos))
        photo_pb2_grpc.add_PhotoServiceServicer_to_server(servicer, self._server)
        self._health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        self._enable_reflection()
        self.port = self.transport.add_port(self._server, f"{config.host}:{config.port}")
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {config.host}:{config.port}")
        self.health_port = self._server.add_insecure_port(f"127.0.0.1:{config.health_port}")
        if self.health_port == 0:
            raise RuntimeError(f"cannot listen on 127.0.0.1:{config.health_port}")
        self._registration = (
            Registration(config.consul_addr, config.host, self.port, config.service_name,
                         health_port=self.health_port, token=config.consul_token, pins=self.transport.pins)
            if config.register else None)
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._prober = threading.Thread(target=self._probe, name="health-probe", daemon=True)

    def _enable_reflection(self) -> None:
        from grpc_reflection.v1alpha import reflection

        names = (photo_pb2.DESCRIPTOR.services_by_name["PhotoService"].full_name,
                 health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME)
        reflection.enable_server_reflection(names, self._server)

    def _set_serving(self, serving: bool) -> None:
        status = (health_pb2.HealthCheckResponse.SERVING if serving
                  else health_pb2.HealthCheckResponse.NOT_SERVING)
        for name in ("", HEALTH_SERVICE):
            self._health.set(name, status)

    def _probe(self) -> None:
        """NOT_SERVING while Postgres is unreachable, so Consul routes around this instance;
        and keep the Consul registration in place."""
        serving = True
        ticks = 0
        while not self._stopping.wait(HEALTH_PROBE_S):
            ticks += 1
            # Keeps the certificates fresh between handshakes; a renewed serving certificate is
            # published at once and served only a while after Consul took it (sidecar/transport.py),
            # so clients trust it before it is served.
            renewed = self.transport.refresh()
            if renewed:
                self._write_pins()
            if self._registration is None:
                self.transport.published()  # no Consul: the pins file is all there is
            elif ((renewed or self.transport.unpublished() or ticks % REREGISTER_EVERY == 0)
                  and self._registration.try_register()):
                self.transport.published()
            try:
                self._repo.ping()
                ok = True
            except Exception as exc:
                ok = False
                if serving:
                    log.warning("database unreachable; not serving", extra={"error": str(exc)})
            if ok != serving and not self._stopping.is_set():
                self._set_serving(ok)
                serving = ok

    def _write_pins(self) -> None:
        """The serving certificates clients may trust, for grpcurl (-cacert): public, not secret."""
        if not self.config.pins_file:
            return
        path = Path(self.config.pins_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(b"".join(self.transport.pins()))
        partial.replace(path)

    def start(self) -> None:
        self._server.start()
        self._write_pins()
        self._set_serving(True)
        self._prober.start()
        if self._registration is not None:
            self._registration.try_register()
        log.info("listening", extra={"address": f"{self.config.host}:{self.port}",
                                     "health_port": self.health_port, **self.transport.describe()})

    def stop(self, grace_s: float | None = None) -> None:
        """Stop taking calls, leave Consul, drain in-flight calls, close the pools."""
        if self._stopping.is_set():
            self._stopped.wait()
            return
        self._stopping.set()
        self._health.enter_graceful_shutdown()
        if self._prober.is_alive():
            self._prober.join(timeout=3.0)  # so it cannot re-register after we leave
        if self._registration is not None:
            self._registration.deregister()
        self._server.stop(self.config.grace_s if grace_s is None else grace_s).wait()
        self._repo.close()
        self.transport.close()
        self._stopped.set()
        log.info("stopped")

    def wait(self) -> None:
        self._stopped.wait()
