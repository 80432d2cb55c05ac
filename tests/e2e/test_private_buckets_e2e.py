"""The buckets are private, as on AWS: nobody gets an object by guessing its key.

Originals and clean derivatives are what photostack sells; only presigned URLs (handed out by
the APIs to the people allowed) and signed SDK calls reach them. The web app's bucket is the one
public, read-only bucket.
"""

from __future__ import annotations

import pytest
import requests

from tests.conftest import aws_client

pytestmark = pytest.mark.e2e

ENDPOINT = "http://127.0.0.1:4566"


def test_anonymous_requests_to_the_photo_buckets_are_refused(stack: dict[str, str]) -> None:
    s3 = aws_client("s3")
    derivatives = stack.get("DerivativesBucketName") or "photostack-derivatives"
    key = "derivatives/guess/the-key/web.jpg"
    s3.put_object(Bucket=derivatives, Key=key, Body=b"a clean copy", ContentType="image/jpeg")
    try:
        guessed = requests.get(f"{ENDPOINT}/{derivatives}/{key}", timeout=10)
        assert guessed.status_code == 403 and b"AccessDenied" in guessed.content, guessed.text
        listing = requests.get(f"{ENDPOINT}/{derivatives}?list-type=2", timeout=10)
        assert listing.status_code == 403
        uploads = stack["UploadsBucketName"]
        planted = requests.put(f"{ENDPOINT}/{uploads}/originals/x/y", data=b"not yours", timeout=10)
        assert planted.status_code == 403

        # The same object through a short-lived presigned URL, as the APIs hand them out.
        url = s3.generate_presigned_url("get_object", Params={"Bucket": derivatives, "Key": key},
                                        ExpiresIn=60)
        assert requests.get(url, timeout=10).content == b"a clean copy"
    finally:
        s3.delete_object(Bucket=derivatives, Key=key)


def test_the_web_app_bucket_is_publicly_readable_and_not_writable(stack: dict[str, str]) -> None:
    web = stack.get("WebBucketName") or "photostack-web"
    page = requests.get(f"{ENDPOINT}/{web}/index.html", timeout=10)
    assert page.status_code == 200 and b"<html" in page.content.lower()
    assert requests.put(f"{ENDPOINT}/{web}/index.html", data=b"defaced", timeout=10).status_code == 403
