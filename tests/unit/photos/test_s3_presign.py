"""photostack.s3_presign makes exactly the presigned GET URLs that botocore makes."""

from __future__ import annotations

import datetime
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from photos.storage import Storage
from photostack.s3_presign import GetUrlSigner, NoCredentials

pytestmark = pytest.mark.unit

KEYS = ["thumb/evt/photo.jpg", "k", "a b+c~d/é.jpg", "a/b/../c?x=1&y#z", "sp%20ace*'()!$;:@=,",
        "日本/写真.jpg"]
TIMES = [datetime.datetime(2026, 11, 29, 23, 59, 59), datetime.datetime(2026, 11, 30, 0, 0, 0),
         datetime.datetime(2028, 2, 29, 12, 30, 5)]


def client(endpoint: str | None, region: str, token: str | None) -> tuple[Any, boto3.session.Session]:
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalr/K7+MDENG",
                                    aws_session_token=token, region_name=region)
    s3 = session.client("s3", endpoint_url=endpoint,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    return s3, session


@pytest.mark.parametrize("endpoint,region,token", [
    ("http://127.0.0.1:4566", "us-east-1", None),
    ("http://localhost.localstack.cloud:4566", "eu-west-1", "session/token+=="),
    (None, "us-east-1", None),
    (None, "eu-central-1", "FwoGZXIvYXdzE//token"),
    ("https://s3.example.com:443", "eu-west-1", None),
    ("http://S3.Example.com:80", "us-east-1", None),
])
def test_same_url_as_botocore(monkeypatch: pytest.MonkeyPatch, endpoint: str | None, region: str,
                              token: str | None) -> None:
    s3, session = client(endpoint, region, token)
    credentials = session.get_credentials()
    assert credentials is not None
    now: list[datetime.datetime] = [TIMES[0]]
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: now[0])
    # One signer across the day boundary: its cached signing key must follow the date.
    signer = GetUrlSigner(s3.meta.endpoint_url, s3.meta.region_name, credentials.get_frozen_credentials, 900,
                          clock=lambda: now[0].replace(tzinfo=datetime.UTC).timestamp())
    for moment in TIMES:
        now[0] = moment
        for key in KEYS:
            expected = s3.generate_presigned_url("get_object", Params={"Bucket": "photostack-derivatives",
                                                                       "Key": key}, ExpiresIn=900)
            assert signer.url("photostack-derivatives", key) == expected


def test_storage_signs_derivative_gets_like_botocore() -> None:
    s3, session = client("http://127.0.0.1:4566", "us-east-1", None)
    credentials = session.get_credentials()
    assert credentials is not None
    storage = Storage(s3, uploads_bucket="up", derivatives_bucket="derived", ttl_s=300,
                      credentials=credentials.get_frozen_credentials)
    plain = Storage(s3, uploads_bucket="up", derivatives_bucket="derived", ttl_s=300)
    for n in range(5):  # both within one second (X-Amz-Date) at least once
        key = f"web/e/{n}.jpg"
        ours, botocores = storage.derivative_url(key), plain.derivative_url(key)
        if ours.split("X-Amz-Date=")[1][:16] == botocores.split("X-Amz-Date=")[1][:16]:
            assert ours == botocores
            assert "X-Amz-Expires=300&" in ours
            return
    pytest.fail("never signed twice within one second")


def test_refused_endpoints_and_missing_credentials() -> None:
    for endpoint in ("ftp://host", "http://host/prefix", "http://host?x=1", "http://:80"):
        with pytest.raises(ValueError):
            GetUrlSigner(endpoint, "us-east-1", lambda: EMPTY, 60)
    signer = GetUrlSigner("http://127.0.0.1:4566", "us-east-1", lambda: EMPTY, 60)
    with pytest.raises(NoCredentials):
        signer.url("b", "k")


EMPTY = ReadOnlyCredentials(None, None, None)
