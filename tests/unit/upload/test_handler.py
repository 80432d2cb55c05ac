"""The S3 notification as the handler reads it."""

from __future__ import annotations

import pytest
from upload.records import s3_records

pytestmark = pytest.mark.unit


def test_every_record_with_its_key_url_decoded() -> None:
    event = {"Records": [
        {"s3": {"bucket": {"name": "up"}, "object": {"key": "originals/e1/p%2B1+x"}}},
        {"s3": {"bucket": {"name": "up"}, "object": {"key": "originals/e2/p2"}}},
        {"eventSource": "aws:sqs"},
    ]}
    assert s3_records(event) == [("up", "originals/e1/p+1 x"), ("up", "originals/e2/p2")]
    assert s3_records({}) == []
