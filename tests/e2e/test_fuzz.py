"""Schemathesis fuzzes every operation of docs/openapi.json through the deployed stack.

A bounded run (PHOTOSTACK_FUZZ_EXAMPLES, 25 by default) inside ``make test``; ``make fuzz``
runs the same test with more examples. Zero 5xx, and every answer's status, content type and
body as documented: anything found is fixed in the code or the document, never excluded here.
"""

from __future__ import annotations

import os

import pytest
import requests

from tests.e2e.fuzzing import fuzz, load_schema, token_for
from tests.e2e.journey_support import Apis, person
from tests.e2e.test_users_e2e import auth, login

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tokens(stack: dict[str, str]) -> dict[str, str]:
    """A valid access token per role, of real accounts (the admin promoted by the operator)."""
    from users import admin as admin_cli

    apis = Apis.of(stack)
    found = {role: person(apis, role) for role in ("customer", "photographer")}
    admin = person(apis, "customer")
    assert admin_cli.main(["promote", admin.email]) == 0
    headers = {**{role: p.headers for role, p in found.items()},
               "admin": auth(login(apis.users, admin.email))}
    return {role: h["Authorization"].removeprefix("Bearer ") for role, h in headers.items()}


def test_schemathesis_finds_nothing(stack: dict[str, str], tokens: dict[str, str]) -> None:
    examples = int(os.environ.get("PHOTOSTACK_FUZZ_EXAMPLES", "25"))
    report = fuzz(stack, tokens, examples)
    print("\n" + report.summary())
    found = report.unique()
    assert report.operations >= 30
    assert not found, f"{len(found)} distinct failures:\n" + "\n".join(f"  {f}" for f in found)


def test_a_body_of_another_media_type_is_a_documented_415_in_our_shape(stack: dict[str, str],
                                                                      tokens: dict[str, str]) -> None:
    """What Schemathesis does not send (it keeps to the documented media types): each operation
    with a body, given text/plain, answers its documented 415 as {"error": {...}}."""
    schema = load_schema(stack)
    wrong = []
    for result in schema.get_all_operations():
        op = result.ok()
        if "requestBody" not in op.definition.raw:
            continue
        path = op.path.replace("{", "").replace("}", "")  # any id: the media type is refused first
        r = requests.request(op.method.upper(), op.base_url + path, data=b'{"a": 1}', timeout=30,
                             headers={**token_for(op, tokens), "Content-Type": "text/plain"})
        body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
        if r.status_code != 415 or "415" not in op.definition.raw["responses"] or "error" not in body:
            wrong.append(f"{op.label}: {r.status_code} {r.text[:120]}")
    assert not wrong, "\n".join(wrong)
