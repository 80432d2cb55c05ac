"""The web app's deployment pieces without a stack: what is published and how, the CORS
header the functions add, and the template's web bucket and single allowed origin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from photostack.config import reset_settings
from photostack.http import json_response

from infra import web_publish
from infra.deploy import load_template

pytestmark = pytest.mark.unit

OUTPUTS = {"UsersApiUrl": "http://x/users", "PhotosApiUrl": "http://x/photos",
           "TransactionsApiUrl": "http://x/tx", "WebBucketName": "web"}


@pytest.mark.parametrize(("name", "expected"), [
    ("index.html", "text/html; charset=utf-8"),
    ("assets/index-abc.js", "text/javascript; charset=utf-8"),
    ("assets/index-abc.css", "text/css; charset=utf-8"),
    ("config.json", "application/json"),
    ("assets/logo.svg", "image/svg+xml"),
])
def test_every_file_is_served_with_its_content_type(name: str, expected: str) -> None:
    assert web_publish.content_type(name) == expected


def test_the_config_names_the_three_apis_and_no_secret() -> None:
    config = web_publish.site_config(OUTPUTS, simulated_payments=True)
    assert config == {"usersApiUrl": "http://x/users", "photosApiUrl": "http://x/photos",
                      "transactionsApiUrl": "http://x/tx", "simulatedPayments": True}


def test_publish_uploads_changed_files_with_types_and_cache_rules_and_removes_stale_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html>")
    (dist / "assets" / "app-1.js").write_text("console.log(1)")
    (dist / ".photostack-stamp").write_text("not published")
    monkeypatch.setattr(web_publish, "DIST", dist)
    monkeypatch.setattr(web_publish.subprocess, "run", lambda *a, **k: None)  # the build itself
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="web")
        s3.put_object(Bucket="web", Key="assets/app-0.js", Body=b"old build")
        url = web_publish.publish(s3, "web", OUTPUTS, endpoint="http://127.0.0.1:4566",
                                  simulated_payments=True)
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="web")["Contents"]}
        index = s3.get_object(Bucket="web", Key="index.html")
        bundle = s3.get_object(Bucket="web", Key="assets/app-1.js")
        config = json.loads(s3.get_object(Bucket="web", Key="config.json")["Body"].read())
    assert url == "http://127.0.0.1:4566/web/index.html"
    assert keys == {"index.html", "assets/app-1.js", "config.json"}
    assert (index["ContentType"], index["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    assert bundle["ContentType"] == "text/javascript; charset=utf-8"
    assert "immutable" in bundle["CacheControl"]
    assert config["photosApiUrl"] == "http://x/photos"


def test_answers_carry_the_web_origin_only_when_one_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHOTOSTACK_WEB_ORIGIN", raising=False)
    reset_settings()
    assert "Access-Control-Allow-Origin" not in json_response({}).headers
    monkeypatch.setenv("PHOTOSTACK_WEB_ORIGIN", "https://photos.example.com")
    reset_settings()
    headers = json_response({"error": {}}, 404).headers
    assert headers["Access-Control-Allow-Origin"] == "https://photos.example.com"
    assert headers["Vary"] == "Origin"


def test_the_template_serves_the_web_bucket_and_allows_only_its_origin() -> None:
    template: dict[str, Any] = load_template()
    resources = template["Resources"]
    web = resources["WebBucket"]["Properties"]
    assert web["WebsiteConfiguration"]["IndexDocument"] == "index.html"
    statement = resources["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == "s3:GetObject"  # read only, nothing else is public
    rules = resources["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert all(rule["AllowedOrigins"][0].tag == "!Ref" and rule["AllowedOrigins"][0].value == "WebOrigin"
               for rule in rules)
    for api in ("UsersApi", "PhotosApi", "TransactionsApi"):
        origin = resources[api]["Properties"]["Cors"]["AllowOrigin"]
        assert (origin.tag, origin.value) == ("!Sub", "'${WebOrigin}'")
    env = template["Globals"]["Function"]["Environment"]["Variables"]["PHOTOSTACK_WEB_ORIGIN"]
    assert (env.tag, env.value) == ("!Ref", "WebOrigin")
