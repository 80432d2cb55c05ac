"""The size limits along the upload path agree: what the API accepts, the function can process."""

from __future__ import annotations

import pytest
from photostack.contract import MAX_UPLOAD_BYTES
from upload.config import load_upload_settings

from sidecar import domain

pytestmark = pytest.mark.unit


def test_the_api_accepts_no_more_than_the_upload_function_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHOTOSTACK_UPLOAD_MAX_BYTES", raising=False)
    assert load_upload_settings().max_bytes >= MAX_UPLOAD_BYTES


def test_the_sidecar_accepts_every_reservation_the_api_allows_and_no_more() -> None:
    domain.validate_reservation("image/jpeg", MAX_UPLOAD_BYTES)
    with pytest.raises(domain.InvalidArgument, match="size must be between"):
        domain.validate_reservation("image/jpeg", MAX_UPLOAD_BYTES + 1)
