"""photostack.http answers a body of another media type with its own 415, not Chalice's."""

from __future__ import annotations

import json

import pytest
from chalice import Chalice  # type: ignore[attr-defined]
from chalice.test import Client
from photostack.http import api_route, json_response, read_json

pytestmark = pytest.mark.unit


def _app() -> Chalice:
    app = Chalice(app_name="media-type-test")

    @api_route(app, "/echo", methods=["POST"])
    def echo():  # type: ignore[no-untyped-def]
        assert app.current_request is not None
        return json_response(read_json(app.current_request))

    return app


@pytest.mark.parametrize("content_type",
                         ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_a_body_of_another_media_type_is_our_415(content_type: str) -> None:
    # Found by probing the stack after Schemathesis: Chalice answered {"Code", "Message"}.
    with Client(_app()) as client:
        r = client.http.post("/echo", body=b'{"a": 1}', headers={"Content-Type": content_type})
    assert r.status_code == 415
    assert json.loads(r.body)["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("headers", [{"Content-Type": "application/json"},
                                     {"Content-Type": "application/json; charset=utf-8"},
                                     {"Content-Type": "application/merge-patch+json"}, {}])
def test_json_and_untyped_bodies_still_reach_the_view(headers: dict[str, str]) -> None:
    with Client(_app()) as client:
        r = client.http.post("/echo", body=b'{"a": 1}', headers=headers)
    assert r.status_code == 200 and json.loads(r.body) == {"a": 1}
