"""S3 notification records, as the upload function and the reconciler receive them."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus


def s3_records(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every record of an S3 notification; keys arrive URL-encoded."""
    return [
        (record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
        for record in event.get("Records", [])
        if isinstance(record, dict) and "s3" in record
    ]
