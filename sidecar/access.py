"""Which caller may call which method: the sidecar's own table, after Consul's intentions.

A call reaches the sidecar with two identities, both verified before any handler runs
(sidecar/identity.py): the calling service (the Consul Connect name in its mTLS client
certificate, allowed to connect at all by an intention) and, when the call is made on a
person's behalf, that person's access token. This table says, per service, which methods
it may call on its own (no token: the domain sees a ``service`` caller) and which only on
behalf of a user (with a token: the domain sees that user). Anything not listed is refused.
No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PHOTO_SERVICE = "/photostack.photo.v1.PhotoService/"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
HEALTH_WATCH = "/grpc.health.v1.Health/Watch"
REFLECTION = frozenset({
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
})

# Methods a person calls through the photos API (their token decides what they see and change).
USER_METHODS = frozenset({
    "CreateEvent", "ListEvents", "GetEvent", "ReservePhoto", "GetPhoto", "GetPhotos", "ListEventPhotos",
    "UpdatePhoto", "DeletePhoto", "SearchFaces", "SetFaceIndexing", "GetPhotoBibs", "SearchBibs",
})


@dataclass(frozen=True)
class Grant:
    own: frozenset[str] = frozenset()         # full method names callable without a user token
    for_users: frozenset[str] = frozenset()   # PhotoService method names callable with a user token


def _photo(*names: str) -> frozenset[str]:
    return frozenset(PHOTO_SERVICE + n for n in names)


_HEALTH = frozenset({HEALTH_CHECK, HEALTH_WATCH})

GRANTS: dict[str, Grant] = {
    # The photos API acts only for the person calling it.
    "photostack-photos": Grant(own=_HEALTH, for_users=USER_METHODS),
    # Buying: the price and owner of a photo (or of all of an order's photos at once), read as
    # the buyer, so a photo the buyer may not see (a private event) cannot be bought.
    "photostack-transactions": Grant(own=_HEALTH, for_users=frozenset({"GetPhoto", "GetPhotos"})),
    # The S3-triggered pipeline: reads the reservation, registers the result or the failure;
    # as the reconciler, also expires reservations whose bytes never came.
    "photostack-upload": Grant(own=_HEALTH | _photo("GetPhoto", "RegisterDerivatives", "MarkFailed",
                                                    "ListIdleReservations", "ExpireReservation")),
    # Face and bib indexing: reads the photo (ready? already indexed?), stores its faces and
    # the numbers read in it.
    "photostack-faces": Grant(own=_HEALTH | _photo("GetPhoto", "IndexFaces", "GetPhotoBibs", "IndexBibs")),
    # Operators with the certificate `make up` issues: health, reflection, and user methods
    # with a user's token (they act as that user, no more); on their own, the storage check's
    # one change (infra/storage_check.py: a ready photo whose objects are gone becomes failed).
    "photostack-operator": Grant(own=_HEALTH | REFLECTION | _photo("MarkLost", "MarkLostBatch"),
                                   for_users=USER_METHODS),
}


class Verdict(Enum):
    ALLOW_AS_SERVICE = "service"
    ALLOW_AS_USER = "user"
    NEEDS_USER = "needs-user"   # a user method called without a token: UNAUTHENTICATED
    DENIED = "denied"           # not this service's to call: PERMISSION_DENIED


def decide(service: str, method: str, *, has_user_token: bool) -> Verdict:
    """What a call of ``method`` (full name, ``/pkg.Service/Method``) by ``service`` may do."""
    grant = GRANTS.get(service)
    if grant is None:
        return Verdict.DENIED
    short = method.removeprefix(PHOTO_SERVICE) if method.startswith(PHOTO_SERVICE) else None
    if short is None and method in grant.own:
        return Verdict.ALLOW_AS_SERVICE  # health, reflection: no person involved, a token changes nothing
    if has_user_token:
        return Verdict.ALLOW_AS_USER if short in grant.for_users else Verdict.DENIED
    if method in grant.own:
        return Verdict.ALLOW_AS_SERVICE
    if short in grant.for_users:
        return Verdict.NEEDS_USER
    return Verdict.DENIED


def anonymous_allowed(method: str) -> bool:
    """Without any certificate only the health check answers (Consul's probe, loopback port)."""
    return method == HEALTH_CHECK
