"""The sidecar's table of who may call what, and the parts of identity that need no I/O."""

from __future__ import annotations

from typing import Any

import pytest
from photostack.rpc.client import user_metadata
from photostack.rpc.connect import ConnectIdentity, IdentityUnavailable, material_of
from photostack.tokens import Principal

from sidecar import access
from sidecar.access import Verdict, decide
from sidecar.identity import Refused, bearer_token, parse_spiffe

pytestmark = pytest.mark.unit

P = "/photostack.photo.v1.PhotoService/"
TD = "11111111-2222-3333-4444-555555555555.consul"


@pytest.mark.parametrize(("service", "method", "token", "verdict"), [
    ("photostack-upload", P + "RegisterDerivatives", False, Verdict.ALLOW_AS_SERVICE),
    ("photostack-upload", P + "MarkFailed", False, Verdict.ALLOW_AS_SERVICE),
    ("photostack-upload", P + "GetPhoto", False, Verdict.ALLOW_AS_SERVICE),
    ("photostack-upload", P + "IndexFaces", False, Verdict.DENIED),
    ("photostack-upload", P + "UpdatePhoto", False, Verdict.DENIED),
    ("photostack-upload", P + "GetPhoto", True, Verdict.DENIED),  # it never acts for a person
    ("photostack-faces", P + "IndexFaces", False, Verdict.ALLOW_AS_SERVICE),
    ("photostack-faces", P + "GetPhoto", False, Verdict.ALLOW_AS_SERVICE),
    ("photostack-faces", P + "RegisterDerivatives", False, Verdict.DENIED),
    ("photostack-transactions", P + "GetPhoto", True, Verdict.ALLOW_AS_USER),
    ("photostack-transactions", P + "GetPhoto", False, Verdict.NEEDS_USER),  # only as the buyer
    ("photostack-transactions", P + "GetPhotos", True, Verdict.ALLOW_AS_USER),  # an order's photos
    ("photostack-transactions", P + "GetPhotos", False, Verdict.NEEDS_USER),
    ("photostack-upload", P + "GetPhotos", False, Verdict.DENIED),
    ("photostack-transactions", P + "UpdatePhoto", True, Verdict.DENIED),
    ("photostack-photos", P + "DeletePhoto", True, Verdict.ALLOW_AS_USER),
    ("photostack-photos", P + "ListEvents", False, Verdict.NEEDS_USER),
    ("photostack-photos", P + "RegisterDerivatives", True, Verdict.DENIED),
    ("photostack-photos", P + "IndexFaces", False, Verdict.DENIED),
    ("photostack-photos", access.HEALTH_CHECK, False, Verdict.ALLOW_AS_SERVICE),
    ("photostack-photos", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", False,
     Verdict.DENIED),
    ("photostack-operator", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", False,
     Verdict.ALLOW_AS_SERVICE),
    ("photostack-operator", P + "ListEvents", True, Verdict.ALLOW_AS_USER),
    # grpcurl -H sends the token on every call, reflection included: it changes nothing there
    ("photostack-operator", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", True,
     Verdict.ALLOW_AS_SERVICE),
    ("photostack-photos", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", True,
     Verdict.DENIED),
    ("photostack-operator", P + "RegisterDerivatives", False, Verdict.DENIED),
    # The storage check marks lost photos failed as the operator, on its own and only that.
    ("photostack-operator", P + "MarkLost", False, Verdict.ALLOW_AS_SERVICE),
    ("photostack-operator", P + "MarkLost", True, Verdict.DENIED),
    ("photostack-operator", P + "MarkFailed", False, Verdict.DENIED),
    ("photostack-upload", P + "MarkLost", False, Verdict.DENIED),
    ("photostack-photos", P + "MarkLost", True, Verdict.DENIED),
    ("photostack-operator", P + "MarkLostBatch", False, Verdict.ALLOW_AS_SERVICE),
    ("photostack-operator", P + "MarkLostBatch", True, Verdict.DENIED),
    ("photostack-upload", P + "MarkLostBatch", False, Verdict.DENIED),
    ("photostack-photos", P + "MarkLostBatch", True, Verdict.DENIED),
    ("photostack-users", access.HEALTH_CHECK, False, Verdict.DENIED),  # no grant at all
    ("photo-sidecar", P + "GetPhoto", True, Verdict.DENIED),
])
def test_decide(service: str, method: str, token: bool, verdict: Verdict) -> None:
    assert decide(service, method, has_user_token=token) is verdict


def test_only_the_health_check_is_anonymous() -> None:
    assert access.anonymous_allowed(access.HEALTH_CHECK)
    assert not access.anonymous_allowed(access.HEALTH_WATCH)
    assert not access.anonymous_allowed(P + "GetPhoto")


@pytest.mark.parametrize(("uri", "service"), [
    (f"spiffe://{TD}/ns/default/dc/dc1/svc/photostack-upload", "photostack-upload"),
    (f"spiffe://{TD}/ns/default/dc/dc1/svc/", None),
    (f"spiffe://{TD}/ns/default/dc/dc1/svc/a/b", None),
    (f"spiffe://{TD}/agent/client/dc/dc1/id/photostack-dev", None),  # an agent, not a service
    ("spiffe://other.consul/ns/default/dc/dc1/svc/photostack-upload", None),  # another trust domain
    (f"https://{TD}/ns/default/dc/dc1/svc/photostack-upload", None),
])
def test_parse_spiffe(uri: str, service: str | None) -> None:
    assert parse_spiffe(uri, TD) == service


@pytest.mark.parametrize(("metadata", "token"), [
    ((), None),
    ((("x-other", "1"),), None),
    ((("authorization", "Bearer abc.def.ghi"),), "abc.def.ghi"),
    ((("authorization", "bearer abc"),), "abc"),
])
def test_bearer_token(metadata: tuple[tuple[str, str], ...], token: str | None) -> None:
    assert bearer_token(metadata) == token


@pytest.mark.parametrize("value", ["Basic abc", "Bearer", "Bearer   ", "abc"])
def test_a_malformed_authorization_is_refused(value: str) -> None:
    with pytest.raises(Refused):
        bearer_token((("authorization", value),))


def test_calls_for_a_person_carry_their_token_and_only_a_verified_one() -> None:
    assert user_metadata(None) is None
    who = Principal(user_id="u", role="customer", token_id="t", access_token="jwt")
    assert user_metadata(who) == (("authorization", "Bearer jwt"),)
    with pytest.raises(ValueError):
        user_metadata(Principal(user_id="u", role="customer", token_id="t"))


LEAF = {"SerialNumber": "0a:0b", "CertPEM": "CERT", "PrivateKeyPEM": "KEY",
        "ValidAfter": "2026-01-01T00:00:00Z", "ValidBefore": "2026-01-04T00:00:00Z", "ServiceURI": f"spiffe://{TD}/ns/default/dc/dc1/svc/x"}
ROOTS: dict[str, Any] = {"TrustDomain": TD, "Roots": [{"RootCert": "ROOT-A\n"}, {"RootCert": "ROOT-B"}]}


class FakeAgent:
    """The agent's answers as data; the real agent is exercised by the integration tests."""

    def __init__(self) -> None:
        self.leaf_reply: dict[str, str] | None = dict(LEAF)
        self.asked = 0

    def leaf(self, service: str) -> dict[str, str]:
        self.asked += 1
        if self.leaf_reply is None:
            raise IdentityUnavailable("agent away")
        return self.leaf_reply

    def roots(self) -> dict[str, Any]:
        return ROOTS


def test_material_of_keeps_every_root() -> None:
    m = material_of("x", LEAF, ROOTS)
    assert m.roots_pem == b"ROOT-A\nROOT-B\n"
    assert m.trust_domain == TD and m.serial == "0a:0b"


def test_identity_rechecks_when_due_and_keeps_a_valid_certificate_while_the_agent_is_away() -> None:
    now = [1_767_225_600.0]  # 2026-01-01T00:00:00Z
    agent = FakeAgent()
    identity = ConnectIdentity(agent, "x", recheck_s=10, clock=lambda: now[0])  # type: ignore[arg-type]
    first = identity.current()
    identity.current()
    assert agent.asked == 1  # cached
    now[0] += 11
    agent.leaf_reply = {**LEAF, "SerialNumber": "0c", "CertPEM": "CERT2"}
    renewed = identity.current()
    assert renewed.serial == "0c" and renewed.fingerprint != first.fingerprint
    agent.leaf_reply = None
    now[0] += 11
    assert identity.current().serial == "0c"  # still valid: kept
    now[0] = 1_767_225_600.0 + 3 * 86400  # past ValidBefore
    with pytest.raises(IdentityUnavailable):
        identity.current()
