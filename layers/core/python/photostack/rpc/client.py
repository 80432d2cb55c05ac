"""A resilient client of one gRPC service found through Consul: identity, deadlines, retries.

Domain-free: what it knows of the service comes from the service's descriptor (its methods
and each method's ``idempotency_level`` option in the ``.proto``) and from the owner that
builds it (the stub class, a longer deadline for a method that needs one).

Who calls: every call is made over mutual TLS with this function's Consul Connect
certificate (:mod:`photostack.rpc.connect`), which tells the service which function is
calling. A call made on a person's behalf passes their verified :class:`Principal`
(``user=principal``) and carries their access token as ``authorization: Bearer``; the
service verifies it and acts as that person. A call without ``user`` is the function's own.
Every call carries this invocation's request id (``x-request-id``) so the service's log
lines join the request's path.

Every call has one overall deadline. Within it, a call that finds no healthy instance waits
for one (re-resolving through Consul every ``RESOLVE_PAUSE_S``), so an instance that returns
from a restart is used within moments, whatever this warm environment saw before; a call
that is safe to repeat and meets UNAVAILABLE is retried, on another instance when there is
one, after dropping the address's channel (the next one connects at once, no reconnect
backoff), asking Consul again and re-reading the certificate (the CA may have rotated).
Safe to repeat: the method's ``idempotency_level`` is NO_SIDE_EFFECTS or IDEMPOTENT, or the
request carries a non-empty ``idempotency_key``; any call is tried again when its connection
failed before the request left (``never_sent``: a restarted service's new serving
certificate fails the old channel's handshake). Failures come back as
:mod:`photostack.errors`, so a service that is down becomes a 503 and never a hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc

from photostack.discovery import NoInstances, ServiceResolver
from photostack.jsonlog import get_logger, request_id_var
from photostack.rpc import channels
from photostack.rpc.connect import ConnectIdentity, IdentityUnavailable, identity_from_environment
from photostack.rpc.status import to_api_error, unavailable
from photostack.tokens import Principal

log = get_logger("rpc.client")

RESOLVE_PAUSE_S = 0.1  # between looks for an instance while none answers
REQUEST_ID_METADATA = "x-request-id"
IDEMPOTENCY_KEY_FIELD = "idempotency_key"
_SAFE_TO_REPEAT = frozenset({descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
                             descriptor_pb2.MethodOptions.IDEMPOTENT})

Metadata = tuple[tuple[str, str], ...]


def trace_metadata() -> Metadata:
    """The request id of this invocation, so the service's log lines join the request's path."""
    request_id = request_id_var.get()
    return ((REQUEST_ID_METADATA, request_id),) if request_id else ()


def never_sent(exc: grpc.RpcError) -> bool:
    """UNAVAILABLE before the request left: no connection (a restarted service presents a new
    certificate, so the old channel's handshake fails). Any call may be tried again then."""
    details = exc.details() or ""  # type: ignore[attr-defined]
    return details.startswith("failed to connect to all addresses")


def user_metadata(user: Principal | None) -> Metadata | None:
    """The gRPC metadata of a call on ``user``'s behalf (None: the function's own call)."""
    if user is None:
        return None
    if not user.access_token:
        raise ValueError("a call on a user's behalf needs their verified token (Principal.access_token)")
    return (("authorization", f"Bearer {user.access_token}"),)


def safe_to_repeat(method: MethodDescriptor, request: Any) -> bool:
    """What the ``.proto`` says of ``method`` (idempotency_level), or an idempotency key in ``request``."""
    if method.GetOptions().idempotency_level in _SAFE_TO_REPEAT:
        return True
    fields = request.DESCRIPTOR.fields_by_name
    return IDEMPOTENCY_KEY_FIELD in fields and bool(getattr(request, IDEMPOTENCY_KEY_FIELD))


class ServiceClient:
    """Calls ``service``'s methods by name through ``stub`` (the generated ``<Service>Stub``)."""

    def __init__(self, service: ServiceDescriptor, stub: Callable[[grpc.Channel], Any],
                 resolver: ServiceResolver, *, deadline_s: float, identity: ConnectIdentity | None = None,
                 deadlines: Mapping[str, float] | None = None, label: str = "") -> None:
        self._service = service
        self._label = label or resolver.service  # in messages: "the <label> service is unavailable"
        self._stub = stub
        # address -> (channel, its stub): building a stub per call was ~0.3 ms, a tenth of the
        # photos page's handler time (py-spy); a new channel for the address builds a new stub.
        self._stubs: dict[str, tuple[grpc.Channel, Any]] = {}
        self._resolver = resolver
        self._deadline_s = deadline_s
        self._identity = identity
        self._deadlines = dict(deadlines or {})
        unknown = set(self._deadlines) - set(service.methods_by_name)
        if unknown:
            raise ValueError(f"{service.full_name} has no methods {sorted(unknown)}")

    @property
    def identity(self) -> ConnectIdentity:
        if self._identity is None:  # built on first call: a unit test that never calls needs no Consul
            self._identity = identity_from_environment()
        return self._identity

    def call(self, method: str, request: Any, user: Principal | None = None) -> Any:
        """``method``'s answer to ``request``, on ``user``'s behalf (None: this function's own call)."""
        retryable = safe_to_repeat(self._service.methods_by_name[method], request)
        return self._attempts(method, request, retryable=retryable, metadata=user_metadata(user),
                              deadline_s=max(self._deadline_s, self._deadlines.get(method, 0.0)))

    def health(self) -> None:
        """Raises ServiceUnavailable unless an instance of the service answers SERVING."""
        self._attempts("Health", health_pb2.HealthCheckRequest(service=self._service.full_name),
                       retryable=True)

    def _invoke(self, address: str, method: str, request: Any, timeout: float,
                metadata: Metadata | None) -> Any:
        pins = self._resolver.pinned(address)
        if pins is None:
            raise IdentityUnavailable(f"Consul lists no serving certificate for {address}")
        ch = channels.channel(address, self.identity.current(), pins, self._resolver.service)
        if method == "Health":
            reply = health_pb2_grpc.HealthStub(ch).Check(request, timeout=timeout)
            if reply.status != health_pb2.HealthCheckResponse.SERVING:
                raise unavailable(self._label, f"the {self._label} service is not serving")
            return reply
        return getattr(self._stub_for(address, ch), method)(
            request, timeout=timeout, metadata=(*(metadata or ()), *trace_metadata()))

    def _stub_for(self, address: str, ch: grpc.Channel) -> Any:
        cached = self._stubs.get(address)
        if cached is not None and cached[0] is ch:
            return cached[1]
        stub = self._stub(ch)
        self._stubs[address] = (ch, stub)
        return stub

    def _recover(self, address: str) -> None:
        """After UNAVAILABLE: reconnect afresh, ask Consul again, re-read the certificate."""
        self._resolver.forget(address)
        self._resolver.invalidate()
        channels.forget(address)
        try:
            self.identity.refresh()
        except IdentityUnavailable as exc:
            log.warning("cannot refresh the Connect certificate", extra={"error": str(exc)})

    def _attempts(self, method: str, request: Any, *, retryable: bool, metadata: Metadata | None = None,
                  deadline_s: float | None = None) -> Any:
        end = time.monotonic() + (deadline_s or self._deadline_s)
        tried: list[str] = []
        last: grpc.RpcError | None = None
        service = self._resolver.service
        while time.monotonic() < end:
            try:
                # Prefer an instance not tried yet; once all have failed, any that Consul
                # lists again (it may be back) is worth another try.
                address = self._pick(tried)
            except NoInstances as exc:
                # Nothing was sent, so waiting is safe for every call, idempotent or not.
                log.warning("no instance", extra={"service": service, "method": method, "error": str(exc)})
                self._pause(end)
                continue
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            try:
                return self._invoke(address, method, request, remaining, metadata)
            except IdentityUnavailable as exc:
                # Nothing was sent: no certificate of ours, or none listed for the instance yet.
                log.warning("no mTLS identity for this call", extra={"method": method, "error": str(exc)})
                self._recover(address)
                tried.append(address)
                self._pause(end)
                continue
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
                    raise to_api_error(exc, self._label) from exc
                log.warning("instance unavailable", extra={
                    "service": service, "method": method, "address": address,
                    "details": exc.details()})  # type: ignore[attr-defined]
                self._recover(address)
                tried.append(address)
                last = exc
                if not retryable and not never_sent(exc):
                    break
                self._pause(end)
        if last is not None:
            raise to_api_error(last, self._label) from last
        raise unavailable(self._label)

    def _pick(self, tried: list[str]) -> str:
        try:
            return self._resolver.pick(exclude=tried)
        except NoInstances:
            if not tried:
                raise
            return self._resolver.pick()

    @staticmethod
    def _pause(end: float) -> None:
        time.sleep(max(0.0, min(RESOLVE_PAUSE_S, end - time.monotonic())))
