"""The pipeline registering through a real photo sidecar process (gRPC, PostgreSQL), S3 and Redis."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest
from photostack.config import reset_settings
from photostack.discovery import reset_resolvers
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient, reset_photo_client
from photostack.rpc import reset_channels
from upload import bootstrap
from upload.claims import RedisWorkClaims
from upload.pipeline import Status, UploadProcessor
from upload.ports import PhotoStatus
from upload.registry import GrpcPhotoRegistry, camera_name
from upload.storage import S3ObjectStore

from infra.db.migrate import migrate
from tests.apps import load_app
from tests.identity import person, photo_client, use_identity
from tests.made_events import MadeEvents
from tests.sidecar_process import SidecarProcess
from tests.unit.upload.corpus import encode, gps_jpeg, photo

pytestmark = pytest.mark.integration

Reserve = Callable[[], tuple[str, str]]  # a new reservation: (event id, photo id)

@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos"])
    proc = SidecarProcess(workers=2).start()
    yield proc
    proc.stop()


@pytest.fixture
def client(sidecar: SidecarProcess) -> PhotoClient:
    """The upload function's client: its own Connect identity, no person."""
    return photo_client(sidecar, "photostack-upload")


@pytest.fixture
def reserve(sidecar: SidecarProcess, made_events: MadeEvents) -> Reserve:
    """A photographer's reservation, made through the photos API's identity on their behalf (its
    event removed when the test ends: the photo becomes ready with its objects in the test's
    own buckets, not the stack's)."""
    photos = photo_client(sidecar, "photostack-photos")

    def make() -> tuple[str, str]:
        owner = person(f"ph-{uuid.uuid4().hex[:8]}", "photographer")
        event = photos.create_event(pb.CreateEventRequest(name="Trail run", date="2026-05-01",
                                                          visibility=pb.VISIBILITY_PUBLIC), user=owner)
        made_events.add(event.id)
        reserved = photos.reserve_photo(pb.ReservePhotoRequest(event_id=event.id, content_type="image/jpeg",
                                                               declared_bytes=100_000), user=owner)
        return event.id, reserved.id

    return make


def upload(s3: Any, bucket: str, event_id: str, photo_id: str, body: bytes) -> str:
    key = f"originals/{event_id}/{photo_id}"
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/jpeg")
    return key


def test_a_good_photo_becomes_ready_with_its_derivatives_and_metadata(reserve: Reserve,
        client: PhotoClient, s3: Any, store: S3ObjectStore, claims: RedisWorkClaims,
        buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    event_id, photo_id = reserve()
    registry = GrpcPhotoRegistry(client)
    assert registry.get_status(photo_id) is PhotoStatus.PENDING
    key = upload(s3, uploads, event_id, photo_id, gps_jpeg())
    processor = UploadProcessor(store, registry, claims, derivatives_bucket=derivatives)

    assert processor.process(uploads, key).status is Status.READY
    got = client.get_photo(pb.GetPhotoRequest(photo_id=photo_id))
    assert got.status == pb.PHOTO_STATUS_READY
    kinds = {d.kind: d for d in got.derivatives}
    assert set(kinds) == {f"{s}_{f}" for s in ("web", "preview", "thumb") for f in ("jpg", "webp")}
    assert kinds["thumb_webp"].key == f"derivatives/{event_id}/{photo_id}/thumb.webp"
    assert kinds["thumb_webp"].content_type == "image/webp"
    assert (got.width, got.height) == (480, 320) and len(got.sha256) == 64
    assert got.camera == "Canon EOS R5"
    assert got.captured_at.ToDatetime().isoformat() == "2024-05-17T14:03:59"
    # Delivered again: nothing new is written or registered.
    assert processor.process(uploads, key).status is Status.SKIPPED


def test_a_bad_upload_becomes_failed_with_its_reason(reserve: Reserve,
        client: PhotoClient, s3: Any, store: S3ObjectStore, claims: RedisWorkClaims,
        buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    event_id, photo_id = reserve()
    key = upload(s3, uploads, event_id, photo_id, b"<html><body>not a photo</body></html>")
    outcome = UploadProcessor(store, GrpcPhotoRegistry(client), claims,
                              derivatives_bucket=derivatives).process(uploads, key)
    assert outcome.status is Status.FAILED
    got = client.get_photo(pb.GetPhotoRequest(photo_id=photo_id))
    assert got.status == pb.PHOTO_STATUS_FAILED
    assert "HTML" in got.failure_reason
    assert s3.head_object(Bucket=uploads, Key=key)["ContentLength"] > 0  # the original stays


def test_unknown_photo_is_ignored(client: PhotoClient, s3: Any, store: S3ObjectStore, claims: RedisWorkClaims,
                                  buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    key = upload(s3, uploads, str(uuid.uuid4()), str(uuid.uuid4()), encode(photo(), "JPEG"))
    outcome = UploadProcessor(store, GrpcPhotoRegistry(client), claims,
                              derivatives_bucket=derivatives).process(uploads, key)
    assert outcome.status is Status.IGNORED


def test_camera_name() -> None:
    assert camera_name("Canon", "Canon EOS R5") == "Canon EOS R5"
    assert camera_name("NIKON CORPORATION", "NIKON Z 9") == "NIKON CORPORATION NIKON Z 9"
    assert camera_name(None, "iPhone 15") == "iPhone 15"
    assert camera_name(None, None) == ""


def s3_event(bucket: str, key: str) -> dict[str, Any]:
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": quote_plus(key), "size": 1, "eTag": "x"}},
    }]}


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch, sidecar: SidecarProcess, buckets: tuple[str, str],
                redis_client: Any) -> Iterator[None]:
    uploads, derivatives = buckets
    for name, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
        "PHOTOSTACK_SIDECAR_SERVICE": sidecar.service,
        "PHOTOSTACK_UPLOADS_BUCKET": uploads, "PHOTOSTACK_DERIVATIVES_BUCKET": derivatives,
    }.items():
        monkeypatch.setenv(name, value)
    use_identity(monkeypatch, "photostack-upload", sidecar.consul_addr)  # as template.yaml sets it
    reset_all()
    yield
    reset_all()


def reset_all() -> None:
    reset_settings()
    reset_photo_client()
    reset_resolvers()
    reset_channels()
    bootstrap.reset()


def test_the_lambda_handler_end_to_end_in_process(reserve: Reserve, handler_env: None, client: PhotoClient,
                                                  s3: Any, buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    load_app("upload")
    handler = sys.modules["upload_app"].on_upload  # what template.yaml names: app.on_upload
    event_id, photo_id = reserve()
    key = upload(s3, uploads, event_id, photo_id, encode(photo(3000, 2000), "JPEG"))
    s3.put_object(Bucket=uploads, Key=key, Body=encode(photo(3000, 2000), "JPEG", quality=80),
                  Metadata={"watermark": "Studio North"})

    result = handler(s3_event(uploads, key), None)
    assert result["outcomes"] == [{"photo_id": photo_id, "status": "ready", "reason": ""}]
    again = handler(s3_event(uploads, key), None)
    assert again["outcomes"][0]["status"] == "skipped"
    got = client.get_photo(pb.GetPhotoRequest(photo_id=photo_id))
    assert got.status == pb.PHOTO_STATUS_READY and len(got.derivatives) == 6
    web = s3.head_object(Bucket=derivatives, Key=f"derivatives/{event_id}/{photo_id}/web.jpg")
    assert web["ContentType"] == "image/jpeg"
