"""The index (faces) function's side of the integration tests that index and then search.

Its client talks to a test sidecar with the faces function's own Connect identity; the
in-process photos API, in the same process, finds that sidecar through Consul as
photostack-photos, as template.yaml sets it up.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from photos import bootstrap as photos_bootstrap
from photostack.config import get_settings
from photostack.discovery import reset_resolvers
from photostack.photo_client import PhotoClient, reset_photo_client
from photostack.rpc import reset_channels

from tests.identity import photo_client, use_identity
from tests.sidecar_process import SidecarProcess


def _reset_clients() -> None:
    for reset in (photos_bootstrap.reset, reset_photo_client, reset_resolvers, reset_channels):
        reset()


def index_function_client(sidecar: SidecarProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[PhotoClient]:
    use_identity(monkeypatch, "photostack-photos", sidecar.consul_addr)
    monkeypatch.setenv("PHOTOSTACK_SIDECAR_SERVICE", sidecar.service)
    monkeypatch.setenv("PHOTOSTACK_GRPC_DEADLINE_MS", "5000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    get_settings.cache_clear()
    _reset_clients()
    yield photo_client(sidecar, "photostack-faces")
    _reset_clients()
