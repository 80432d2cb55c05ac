"""Waiting for processing rides out a service that is briefly away, within its deadline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from photostack_cli.client import ApiError
from photostack_cli.uploader import wait_for_processing

pytestmark = pytest.mark.unit


class FlakyPhotos:
    """Answers the event's photo pages after failing with ``failures`` first."""

    def __init__(self, failures: list[ApiError], photos: list[dict[str, Any]]) -> None:
        self.failures = list(failures)
        self.photos = photos
        self.calls = 0

    def paged(self, api: str, path: str, key: str) -> Iterator[dict[str, Any]]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        yield from self.photos


def test_a_restarting_service_is_waited_out() -> None:
    client = FlakyPhotos([ApiError(503, "catalog_unavailable", "the photo service is unavailable"),
                          ApiError(0, "unreachable", "cannot reach the photos API")],
                         [{"id": "p1", "status": "ready"}])
    photos = wait_for_processing(client, "e1", {"p1"}, timeout_s=5, poll_s=0.01)  # type: ignore[arg-type]
    assert photos["p1"]["status"] == "ready"
    assert client.calls == 3


def test_a_client_error_is_not_waited_out() -> None:
    client = FlakyPhotos([ApiError(403, "forbidden", "not yours")], [])
    with pytest.raises(ApiError) as raised:
        wait_for_processing(client, "e1", {"p1"}, timeout_s=5, poll_s=0.01)  # type: ignore[arg-type]
    assert raised.value.status == 403 and client.calls == 1


def test_an_outage_longer_than_the_deadline_is_reported() -> None:
    client = FlakyPhotos([ApiError(503, "catalog_unavailable", "down")] * 1000, [])
    with pytest.raises(ApiError) as raised:
        wait_for_processing(client, "e1", {"p1"}, timeout_s=0.05, poll_s=0.01)  # type: ignore[arg-type]
    assert raised.value.status == 503
