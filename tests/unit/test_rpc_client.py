"""photostack.rpc.client retries what the proto says is safe to repeat (idempotency_level), and
calls whose request carries an idempotency key; the photo client keeps its per-method settings."""

from __future__ import annotations

import pytest
from photostack.discovery import ServiceResolver
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc
from photostack.photo_client import SERVICE, PhotoClient
from photostack.rpc.client import ServiceClient, safe_to_repeat

pytestmark = pytest.mark.unit

# What photo_client retried from a hand-kept list before the proto said it: reads, and writes
# that set or replace.
REPEATABLE = {
    "GetEvent", "ListEvents", "GetPhoto", "GetPhotos", "ListEventPhotos",
    "RegisterDerivatives", "MarkFailed", "UpdatePhoto",
    "IndexFaces", "SearchFaces", "SetFaceIndexing",
    "IndexBibs", "GetPhotoBibs", "SearchBibs",
    "MarkLost", "MarkLostBatch",  # the storage check's: marking a lost photo twice changes nothing
    "ListIdleReservations",  # the reconciler's read
}
KEYED = {"CreateEvent": pb.CreateEventRequest, "ReservePhoto": pb.ReservePhotoRequest}


def _empty_request(method: str) -> object:
    return getattr(pb, SERVICE.methods_by_name[method].input_type.name)()


def test_the_proto_marks_exactly_the_calls_that_are_retried() -> None:
    repeatable = {m.name for m in SERVICE.methods if safe_to_repeat(m, _empty_request(m.name))}
    assert repeatable == REPEATABLE


@pytest.mark.parametrize("method", sorted(KEYED))
def test_a_keyed_request_is_retried_and_an_unkeyed_one_is_not(method: str) -> None:
    descriptor = SERVICE.methods_by_name[method]
    assert not safe_to_repeat(descriptor, KEYED[method]())
    assert safe_to_repeat(descriptor, KEYED[method](idempotency_key="k-123456"))


def test_non_idempotent_calls_without_a_key_field_are_not_retried() -> None:
    for method in ("DeletePhoto", "ExpireReservation"):
        assert not safe_to_repeat(SERVICE.methods_by_name[method], _empty_request(method))


def test_a_deadline_for_a_method_the_service_lacks_is_refused() -> None:
    resolver = ServiceResolver("photo-sidecar", consul_addr="", static_addr="127.0.0.1:1")
    with pytest.raises(ValueError, match="no methods"):
        ServiceClient(SERVICE, pb_grpc.PhotoServiceStub, resolver, deadline_s=1.0, deadlines={"Nope": 2.0})


def test_every_photo_service_method_has_a_typed_call() -> None:
    def snake(name: str) -> str:
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")

    missing = [m.name for m in SERVICE.methods if not callable(getattr(PhotoClient, snake(m.name), None))]
    assert missing == []


class _Stub:
    built = 0

    def __init__(self, channel: object) -> None:
        type(self).built += 1
        self.channel = channel

    def GetPhoto(self, request: object, **_: object) -> object:
        return self.channel


class _Identity:
    def current(self) -> object:
        return object()


def test_a_stub_is_built_once_per_channel_and_again_for_a_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from photostack.rpc import channels

    resolver = ServiceResolver("photo-sidecar", consul_addr="", static_addr="127.0.0.1:1")
    monkeypatch.setattr(resolver, "pinned", lambda address: b"pins")
    current = {"channel": object()}
    monkeypatch.setattr(channels, "channel", lambda *a: current["channel"])
    client = ServiceClient(SERVICE, _Stub, resolver, deadline_s=1.0, identity=_Identity())  # type: ignore[arg-type]
    _Stub.built = 0
    request = pb.GetPhotoRequest()
    first = [client._invoke("127.0.0.1:1", "GetPhoto", request, 1.0, None) for _ in range(3)]
    assert _Stub.built == 1 and all(ch is current["channel"] for ch in first)
    current["channel"] = object()  # the channel was forgotten and made again (a reconnect)
    assert client._invoke("127.0.0.1:1", "GetPhoto", request, 1.0, None) is current["channel"]
    assert _Stub.built == 2


def test_opting_out_has_the_clients_one_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # It once had 10 s, when it scanned every indexed face; now it stores or drops one row.
    resolver = ServiceResolver("photo-sidecar", consul_addr="", static_addr="127.0.0.1:1")
    client = PhotoClient(resolver, deadline_s=2.0, identity=_Identity())  # type: ignore[arg-type]
    deadlines: list[tuple[str, float]] = []
    monkeypatch.setattr(client, "_attempts",
                        lambda method, request, **kw: deadlines.append((method, kw["deadline_s"])))
    client.set_face_indexing(pb.SetFaceIndexingRequest(enabled=True))
    assert deadlines == [("SetFaceIndexing", 2.0)]
