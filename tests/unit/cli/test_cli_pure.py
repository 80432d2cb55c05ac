"""CLI pieces without I/O: amounts, file types, token expiry, the webhook signature, the journal."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from photostack_cli import money
from photostack_cli.client import token_expiry
from photostack_cli.journal import UPLOADED, Journal
from photostack_cli.uploader import collect_files, sniff_content_type
from photostack_cli.webhook import SIGNATURE_HEADER, signed_payment_webhook
from transactions import webhooks

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("typed", "minor"), [("12.50", 1250), ("7.5", 750), ("20", 2000), (" 0.01 ", 1)])
def test_amounts_become_minor_units(typed: str, minor: int) -> None:
    assert money.to_minor(typed) == minor


@pytest.mark.parametrize("typed", ["12.345", "-3", "0", "abc", "NaN", "Infinity", ""])
def test_bad_amounts_are_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        money.to_minor(typed)


def test_amounts_are_shown_with_two_decimals() -> None:
    assert money.show(1250, "EUR") == "12.50 EUR"
    assert money.show(-5, "EUR") == "-0.05 EUR"
    assert money.show(None, "EUR") == "-"


def test_file_types_come_from_the_bytes_first() -> None:
    assert sniff_content_type(Path("x.png"), b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_content_type(Path("x.jpg"), b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert sniff_content_type(Path("x"), b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_content_type(Path("x.jpeg"), b"garbage") == "image/jpeg"  # the API's decoder decides
    assert sniff_content_type(Path("notes.txt"), b"hello") is None


def test_folders_are_walked_for_images_in_a_stable_order(tmp_path: Path) -> None:
    for name in ("b.jpg", "a.PNG", "notes.txt", ".hidden.jpg", "sub/c.webp"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = collect_files([tmp_path, tmp_path / "b.jpg"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.PNG", "b.jpg", "sub/c.webp"]
    with pytest.raises(FileNotFoundError):
        collect_files([tmp_path / "missing"])


def test_token_expiry_is_read_without_verifying() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 1700000000}).encode()).decode().rstrip("=")
    assert token_expiry(f"h.{payload}.sig") == 1700000000
    assert token_expiry("not a jwt") is None


def test_the_cli_signs_webhooks_the_way_the_transactions_api_verifies_them() -> None:
    secret = "s" * 40
    body, headers = signed_payment_webhook(secret, "0b0c3a5e-1111-4222-8333-944455556666",
                                           event_id="evt_1", now=1_800_000_000)
    assert webhooks.verify(secret, headers[SIGNATURE_HEADER], body, now=1_800_000_100) == 1_800_000_000
    event = webhooks.PaymentEvent.parse(body)
    assert (event.event_id, event.status) == ("evt_1", "succeeded")
    with pytest.raises(webhooks.WebhookRejected):
        webhooks.verify("t" * 40, headers[SIGNATURE_HEADER], body, now=1_800_000_100)


def test_the_journal_survives_a_restart_and_ignores_damage(tmp_path: Path) -> None:
    path = tmp_path / "ev.json"
    journal = Journal("ev", path)
    journal.put("abc", {"photo_id": "p1", "state": "reserved", "done": {}})
    journal.part_done("abc", 1, '"etag-1"')
    again = Journal("ev", path)
    assert again.get("abc") == {**journal.get("abc"), "done": {"1": '"etag-1"'}}  # type: ignore[dict-item]
    again.put("abc", {"photo_id": "p1", "state": UPLOADED})
    assert Journal("ev", path).get("abc")["state"] == UPLOADED  # type: ignore[index]
    assert Journal("other-event", path).get("abc") is None  # a journal belongs to one event
    path.write_text("{not json")
    assert Journal("ev", path).get("abc") is None
