"""The CLI against the deployed stack: accounts, tokens, events, wallet, errors and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.integration.cli.conftest import PASSWORD, Cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


def conforms(instance: Any, schema_name: str) -> None:
    """The answer matches its schema in the committed docs/openapi.json."""
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)


def test_register_login_whoami_and_refresh_on_an_invalid_token(make_cli: Callable[[str], Cli]) -> None:
    ann = make_cli("ann")
    user = ann.register("photographer")
    conforms(user, "User")
    assert user["email"] == ann.email and user["role"] == "photographer"
    me = ann.json("whoami")
    assert me["id"] == user["id"]

    login = ann.json("login", "--email", ann.email, "--password", PASSWORD)
    assert login["user"]["id"] == user["id"]
    before = ann.credentials
    assert (ann.home / "config" / "credentials.json").stat().st_mode & 0o077 == 0

    # A token the API refuses (bad signature) is refreshed once, transparently.
    head, payload, signature = before["access_token"].split(".")
    tampered = dict(before, access_token=f"{head}.{payload}.{signature[::-1]}")
    (ann.home / "config" / "credentials.json").write_text(json.dumps(tampered))
    assert ann.json("whoami")["id"] == user["id"]
    after = ann.credentials
    assert after["access_token"] != tampered["access_token"]
    assert after["refresh_token"] != before["refresh_token"]  # rotated

    # The spent refresh token is gone from the file; logging out revokes the live one.
    assert ann.json("logout") == {"logged_out": True}
    result = ann.run("whoami")
    assert result.exit_code == 3 and "not logged in" in result.stderr


def test_api_errors_are_clear_with_exit_codes(make_cli: Callable[[str], Cli]) -> None:
    bob = make_cli("bob")
    bob.register("customer")

    wrong = bob.run("login", "--email", bob.email, "--password", "not the password at all")
    assert wrong.exit_code == 3
    assert "invalid_credentials" in wrong.stderr and "HTTP 401" in wrong.stderr

    taken = bob.run("register", "--email", bob.email, "--password", PASSWORD, "--name", "B", "--json")
    assert taken.exit_code == 1
    assert json.loads(taken.stdout)["error"]["code"] == "email_taken"
    assert json.loads(taken.stdout)["error"]["status"] == 409

    # A customer may not create events: 403, exit 3, the API's own code shown.
    forbidden = bob.run("events", "create", "Nope", "--date", "2025-06-01")
    assert forbidden.exit_code == 3 and "wrong_role" in forbidden.stderr

    stranger = make_cli("stranger")
    not_logged_in = stranger.run("wallet", "show")
    assert not_logged_in.exit_code == 3 and "photostack login" in not_logged_in.stderr

    unreachable = bob.run("--users-url", "http://127.0.0.1:9", "whoami", "--json")
    assert unreachable.exit_code == 4
    assert json.loads(unreachable.stdout)["error"]["code"] == "unreachable"

    bad_amount = bob.run("wallet", "topup", "12.345")
    assert bad_amount.exit_code == 2 and "at most 2 decimals" in bad_amount.stderr


def test_events_create_and_list(make_cli: Callable[[str], Cli]) -> None:
    ann = make_cli("ann")
    ann.register("photographer")
    event = ann.json("events", "create", "Wedding", "--date", "2025-06-01", "--place", "Lyon")
    conforms(event, "Event")
    assert (event["name"], event["place"], event["visibility"]) == ("Wedding", "Lyon", "public")

    mine = ann.json("events", "list", "--mine")
    conforms({"events": mine["events"], "next_cursor": None}, "EventPage")
    assert [e["id"] for e in mine["events"]] == [event["id"]]

    bad = ann.run("events", "create", "Wedding", "--date", "June 1st", "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["error"]["status"] == 400

    table = ann.run("events", "list", "--mine")
    assert table.exit_code == 0 and event["id"] in table.stdout


def test_wallet_topup_through_the_signed_webhook(make_cli: Callable[[str], Cli]) -> None:
    cu = make_cli("cu")
    cu.register("customer")
    assert cu.json("wallet", "show") == {"wallets": []}

    first = cu.json("wallet", "topup", "12.50")
    conforms(first["payment"], "Payment")
    conforms(first["confirmation"], "PaymentEventResult")
    assert first["confirmation"] == {"payment_id": first["payment"]["payment_id"], "status": "succeeded",
                                     "credited": True}
    cu.json("wallet", "topup", "7.5", "--currency", "eur")
    wallets = cu.json("wallet", "show")
    conforms(wallets, "Wallets")
    assert wallets == {"wallets": [{"currency": "EUR", "balance_minor": 2000}]}
    human = cu.run("wallet", "show")
    assert human.exit_code == 0 and "20.00 EUR" in human.stdout, human.stderr

    # A wrong shared secret is refused by the API: nothing credited, a clear error.
    forged = cu.run("wallet", "topup", "5", env={"PHOTOSTACK_PAYMENT_WEBHOOK_SECRET": "x" * 40})
    assert forged.exit_code == 3 and "invalid_signature" in forged.stderr
    assert cu.json("wallet", "show")["wallets"][0]["balance_minor"] == 2000


def test_api_urls_default_to_the_local_stack(make_cli: Callable[[str], Cli], stack: dict[str, str]) -> None:
    cli = make_cli("defaults")
    no_urls = {f"PHOTOSTACK_{api}_API_URL": None for api in ("USERS", "PHOTOS", "TRANSACTIONS")}
    result = cli.run("config", "show", "--json", env=no_urls)
    assert result.exit_code == 0, result.stderr
    urls = json.loads(result.stdout)["api_urls"]
    assert urls == {"users": stack["UsersApiUrl"], "photos": stack["PhotosApiUrl"],
                    "transactions": stack["TransactionsApiUrl"]}

    assert cli.run("config", "set", "users_api_url", "http://127.0.0.1:9", env=no_urls).exit_code == 0
    result = cli.run("config", "show", "--json", env=no_urls)
    assert json.loads(result.stdout)["api_urls"]["users"] == "http://127.0.0.1:9"
