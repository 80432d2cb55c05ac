"""Who is calling: the service from its mTLS certificate, the person from their access token.

The sidecar serves over mutual TLS with its Consul Connect leaf certificate and trusts only
the Connect CA's roots, so a caller without a certificate from that CA never completes the
handshake. :class:`IdentityInterceptor` then runs before any handler, on every method:

1. the client certificate's SPIFFE id (URI SAN) names the calling service; Consul's
   intentions must allow it to reach this service (``/v1/agent/connect/authorize``, answers
   cached for a few seconds);
2. an ``authorization: Bearer <jwt>`` header, when present, is verified with
   :func:`photostack.tokens.verify_access_token` (same keys and rules as the functions);
3. :func:`sidecar.access.decide` says whether this service may call this method on its own or
   only on a user's behalf.

Refusals: no or unknown identity or bad token -> UNAUTHENTICATED; intentions or the access
table say no -> PERMISSION_DENIED. The handler then reads the domain caller with
:func:`caller_of`. Without any certificate (the plaintext loopback health port) only the
health check answers.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from cryptography import x509
from photostack import contract, errors
from photostack.account_status import get_account_status
from photostack.jsonlog import get_logger
from photostack.rpc.connect import ConnectAgent, IdentityUnavailable
from photostack.tokens import TokenError, verify_access_token

from sidecar import access
from sidecar import domain as d

log = get_logger("sidecar.identity")

INTENTION_CACHE_S = 5.0
# When the agent cannot be asked, a cached answer stays good this long (Consul's own
# "extend-cache" down policy); with no answer at all the call is refused.
INTENTION_STALE_S = 60.0

_caller: contextvars.ContextVar[d.Caller | None] = contextvars.ContextVar("sidecar_caller", default=None)


class Refused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Peer:
    spiffe_id: str
    service: str
    serial: str


def parse_spiffe(uri: str, trust_domain: str) -> str | None:
    """The service name of a Connect service identity in our trust domain, else None."""
    prefix = f"spiffe://{trust_domain}/"
    if not uri.startswith(prefix):
        return None
    parts = uri.removeprefix(prefix).split("/")
    # ns/<ns>/dc/<dc>/svc/<name> (Consul CE; the partition form is Enterprise only)
    if len(parts) == 6 and parts[0] == "ns" and parts[2] == "dc" and parts[4] == "svc" and parts[5]:
        return parts[5]
    return None


def peer_of(context: grpc.ServicerContext, trust_domain: str) -> Peer | None:
    """The verified client certificate's identity; None on a connection without one."""
    auth = context.auth_context()
    pems = auth.get("x509_pem_cert")
    if not pems:
        return None
    cert = x509.load_pem_x509_certificate(pems[0])
    try:
        uris = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    serial = ":".join(f"{b:02x}" for b in cert.serial_number.to_bytes(
        (cert.serial_number.bit_length() + 7) // 8 or 1, "big"))
    for uri in uris:
        service = parse_spiffe(uri, trust_domain)
        if service is not None:
            return Peer(spiffe_id=uri, service=service, serial=serial)
    raise Refused(grpc.StatusCode.UNAUTHENTICATED, "the client certificate names no Connect service")


class Intentions:
    """Consul's answer to "may this service connect to us?", cached briefly."""

    def __init__(self, agent: ConnectAgent, target: str, *, ttl_s: float = INTENTION_CACHE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._agent = agent
        self._target = target
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, bool, str]] = {}

    def check(self, peer: Peer) -> None:
        now = self._clock()
        with self._lock:
            cached = self._answers.get(peer.spiffe_id)
        if cached is None or now - cached[0] >= self._ttl_s:
            try:
                allowed, reason = self._agent.authorize(self._target, peer.spiffe_id, peer.serial)
                cached = (now, allowed, reason)
                with self._lock:
                    if len(self._answers) > 1024:
                        self._answers.clear()
                    self._answers[peer.spiffe_id] = cached
            except IdentityUnavailable as exc:
                if cached is None or now - cached[0] >= INTENTION_STALE_S:
                    log.warning("cannot check intentions", extra={"error": str(exc)})
                    raise Refused(grpc.StatusCode.UNAVAILABLE, "cannot check Consul intentions now") from exc
        _, allowed, reason = cached
        if not allowed:
            raise Refused(grpc.StatusCode.PERMISSION_DENIED,
                          f"service {peer.service!r} may not call {self._target} ({reason})")


def bearer_token(metadata: Sequence[tuple[str, Any]] | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization":
            scheme, _, token = str(value).partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Refused(grpc.StatusCode.UNAUTHENTICATED,
                              "authorization must be 'Bearer <access token>'")
            return token.strip()
    return None


class Gate:
    """Everything a call must pass before its handler; answers the domain caller."""

    def __init__(self, intentions: Intentions, trust_domain: Callable[[], str],
                 verify: Callable[[str], Any] = verify_access_token,
                 check_account: Callable[[Any], None] | None = None) -> None:
        self._intentions = intentions
        self._trust_domain = trust_domain
        self._verify = verify
        # The functions' other rule on a token: a disabled account, or a token older than the
        # account's last password change, is refused here too (PostgreSQL is the record).
        self._check_account = check_account or (lambda principal: get_account_status().check(principal))

    def admit(self, method: str, context: grpc.ServicerContext) -> d.Caller | None:
        peer = peer_of(context, self._trust_domain())
        if peer is None:
            if access.anonymous_allowed(method):
                return None
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, "a Connect client certificate is required")
        self._intentions.check(peer)
        token = bearer_token(context.invocation_metadata())
        verdict = access.decide(peer.service, method, has_user_token=token is not None)
        if verdict is access.Verdict.NEEDS_USER:
            raise Refused(grpc.StatusCode.UNAUTHENTICATED,
                          f"{method} acts for a person: send their access token (authorization: Bearer ...)")
        if verdict is access.Verdict.DENIED:
            raise Refused(grpc.StatusCode.PERMISSION_DENIED,
                          f"service {peer.service!r} may not call {method}"
                          + (" on a user's behalf" if token is not None else ""))
        if verdict is access.Verdict.ALLOW_AS_SERVICE:
            name = peer.service.removeprefix("photostack-")
            return d.Caller(user_id=f"service:{name}", role=contract.SERVICE)
        assert token is not None
        try:
            principal = self._verify(token)
        except TokenError as exc:
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, f"access token refused: {exc}") from exc
        except errors.ServiceUnavailable as exc:  # the signing keys cannot be read yet (SecretUnavailable)
            raise Refused(grpc.StatusCode.UNAVAILABLE, "cannot verify access tokens now") from exc
        try:
            self._check_account(principal)
        except errors.Unauthorized as exc:
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, f"access token refused: {exc.message}") from exc
        except errors.ServiceUnavailable as exc:
            raise Refused(grpc.StatusCode.UNAVAILABLE, "cannot check the account now") from exc
        return d.Caller(user_id=principal.user_id, role=principal.role)


class Admits(Protocol):
    def admit(self, method: str, context: grpc.ServicerContext) -> d.Caller | None: ...


class IdentityInterceptor(grpc.ServerInterceptor):
    """Runs a :class:`Gate` before every handler, of every kind of method."""

    def __init__(self, gate: Admits) -> None:
        self._gate = gate

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method: str = details.method
        gate = self._gate

        def guard(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            def guarded(request: Any, context: grpc.ServicerContext) -> Any:
                try:
                    caller = gate.admit(method, context)
                except Refused as exc:
                    log.info("call refused",
                             extra={"method": method, "code": exc.code.name, "reason": exc.message})
                    context.abort(exc.code, exc.message)
                token = _caller.set(caller)
                try:
                    return behaviour(request, context)
                finally:
                    _caller.reset(token)
            return guarded

        for kind, make in (("unary_unary", grpc.unary_unary_rpc_method_handler),
                           ("unary_stream", grpc.unary_stream_rpc_method_handler),
                           ("stream_unary", grpc.stream_unary_rpc_method_handler),
                           ("stream_stream", grpc.stream_stream_rpc_method_handler)):
            behaviour = getattr(handler, kind)
            if behaviour is not None:
                return make(guard(behaviour), request_deserializer=handler.request_deserializer,
                            response_serializer=handler.response_serializer)
        return handler


def caller_of(context: grpc.ServicerContext) -> d.Caller:
    """The verified caller of the call being served (set by :class:`IdentityInterceptor`)."""
    caller = _caller.get()
    if caller is None:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "no verified caller")
    assert caller is not None
    return caller
