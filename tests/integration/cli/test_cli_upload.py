"""CLI uploads through the photos API's presigned S3 URLs: resume after an interruption,
skip by content hash, and (with the upload function deployed) buy and download."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from photostack_cli import config
from photostack_cli.client import Client
from photostack_cli.journal import RESERVED, UPLOADED, Journal
from photostack_cli.uploader import Uploader, collect_files, wait_for_processing
from PIL import Image

from tests.integration.cli.conftest import Cli

pytestmark = pytest.mark.e2e

MULTIPART_BYTES = 17 * 1024 * 1024  # above the photos API's 16 MiB threshold: 3 parts of <= 8 MiB


class Interrupted(Exception):
    pass


def jpeg(path: Path, seed: int, size: tuple[int, int] = (640, 480)) -> Path:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize(size).save(path, "JPEG", quality=85)
    return path


def big_png(path: Path) -> Path:
    """A real image (so processing succeeds) of at least MULTIPART_BYTES: noise does not compress."""
    pixels = np.random.default_rng(7).integers(0, 255, (2400, 2500, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=0)
    path.write_bytes(out.getvalue())
    assert path.stat().st_size > MULTIPART_BYTES
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def photographer(make_cli: Callable[[str], Cli]) -> tuple[Cli, str]:
    cli = make_cli("photographer")
    cli.register("photographer")
    event = cli.json("events", "create", "CLI uploads", "--date", "2025-06-01")
    return cli, event["id"]


def in_env(cli: Cli, fn: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in cli.env.items():
        monkeypatch.setenv(name, value)
    return fn()


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(f["path"]).name: f for f in report["files"]}


def test_an_interrupted_upload_resumes_with_the_missing_parts_only(
        photographer: tuple[Cli, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, event_id = photographer
    folder = tmp_path / "shoot"
    folder.mkdir()
    jpeg(folder / "a.jpg", 1)
    jpeg(folder / "b.jpg", 2)
    big = big_png(folder / "c-big.png")

    # First run: one worker, files in name order; stop right after the big file's first part.
    def stop_after_first_part(path: Path, part_number: int) -> None:
        raise Interrupted(f"{path.name} part {part_number}")

    def first_run() -> None:
        client = Client(config.resolve())
        uploader = Uploader(client, event_id, Journal(event_id), workers=1, on_part=stop_after_first_part)
        uploader.run(collect_files([folder]))

    with pytest.raises(Interrupted, match=r"c-big\.png part 1"):
        in_env(cli, first_run, monkeypatch)

    journal = Journal(event_id, cli.home / "state" / "uploads" / f"{event_id}.json").entries()
    states = {Path(e["path"]).name: e for e in journal.values()}
    assert states["a.jpg"]["state"] == states["b.jpg"]["state"] == UPLOADED
    assert states["c-big.png"]["state"] == RESERVED
    assert states["c-big.png"]["method"] == "MULTIPART" and list(states["c-big.png"]["done"]) == ["1"]

    # Second run through the CLI: the small files are skipped, the big one sends parts 2 and 3.
    report = cli.json("upload", event_id, str(folder), "--no-wait")
    files = by_name(report)
    assert report["counts"] == {"uploaded": 0, "resumed": 1, "skipped": 2, "duplicate": 0, "failed": 0}
    assert files["c-big.png"]["outcome"] == "resumed"
    assert files["c-big.png"]["parts_sent"] == 2
    assert files["c-big.png"]["bytes_sent"] == big.stat().st_size - 8 * 1024 * 1024
    assert files["c-big.png"]["photo_id"] == states["c-big.png"]["photo_id"]

    # The object S3 assembled is the file, byte for byte (the owner may download the original
    # once it is processed: a download is granted only for the object whose identity processing
    # recorded).
    pid = files["c-big.png"]["photo_id"]
    done = in_env(cli, lambda: wait_for_processing(Client(config.resolve()), event_id, {pid}, timeout_s=120),
                  monkeypatch)
    assert done[pid]["status"] == "ready", done
    downloads = tmp_path / "downloads"
    got = cli.json("download", files["c-big.png"]["photo_id"], str(downloads))
    assert sha256(Path(got["path"])) == sha256(big)

    # A third run has nothing left to do.
    again = cli.json("upload", event_id, str(folder), "--no-wait")
    assert again["counts"]["skipped"] == 3 and again["counts"]["uploaded"] == 0


def test_files_already_uploaded_are_skipped_by_content_hash(photographer: tuple[Cli, str],
                                                            tmp_path: Path) -> None:
    cli, event_id = photographer
    first = tmp_path / "first"
    first.mkdir()
    jpeg(first / "one.jpg", 11)
    jpeg(first / "two.jpg", 12)
    report = cli.json("upload", event_id, str(first), "--no-wait")
    assert report["counts"]["uploaded"] == 2
    ids = {name: f["photo_id"] for name, f in by_name(report).items()}

    # The same bytes under another name, in another folder, plus a genuinely new photo and
    # a copy of it in the same batch.
    second = tmp_path / "second"
    second.mkdir()
    shutil.copy(first / "one.jpg", second / "renamed.jpg")
    jpeg(second / "new.jpg", 13)
    shutil.copy(second / "new.jpg", second / "new-copy.jpg")
    report = cli.json("upload", event_id, str(second), "--no-wait")
    files = by_name(report)
    assert files["renamed.jpg"]["outcome"] == "skipped"
    assert files["renamed.jpg"]["photo_id"] == ids["one.jpg"]
    assert files["renamed.jpg"]["bytes_sent"] == 0
    assert {files["new.jpg"]["outcome"], files["new-copy.jpg"]["outcome"]} == {"uploaded", "duplicate"}

    listed = cli.json("photos", "list", event_id)
    assert len(listed["photos"]) == 3  # one.jpg, two.jpg, new.jpg: no duplicate photo records


def test_unsupported_files_fail_alone_with_a_clear_reason(photographer: tuple[Cli, str],
                                                          tmp_path: Path) -> None:
    cli, event_id = photographer
    good = jpeg(tmp_path / "good.jpg", 21)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    result = cli.run("upload", event_id, str(good), str(notes), "--no-wait", "--json")
    assert result.exit_code == 1
    files = by_name(json.loads(result.stdout))
    assert files["good.jpg"]["outcome"] == "uploaded"
    assert files["notes.txt"]["outcome"] == "failed"
    assert files["notes.txt"]["error"]["code"] == "unsupported_file"

    missing = cli.run("upload", event_id, str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr

    stranger = cli.run("upload", "00000000-0000-4000-8000-000000000000", str(good), "--no-wait", "--json")
    assert stranger.exit_code == 1
    error = by_name(json.loads(stranger.stdout))["good.jpg"]["error"]
    assert error["status"] == 404


def test_upload_shows_progress_then_buy_and_download_byte_identical(
        photographer: tuple[Cli, str], make_cli: Callable[[str], Cli], tmp_path: Path) -> None:
    """Needs the upload function: the photos must become ready to be priced and sold."""
    cli, event_id = photographer
    folder = tmp_path / "sale"
    folder.mkdir()
    originals = [jpeg(folder / f"p{i}.jpg", 30 + i, (1200, 800)) for i in range(2)]
    shown = cli.run("upload", event_id, str(folder), "--wait-timeout", "120")
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    assert "all files 2/2" in shown.stderr  # the overall bar's last state
    assert "2 ready" in shown.stdout and "2 uploaded" in shown.stdout

    photos = cli.json("photos", "list", event_id)["photos"]
    assert {p["status"] for p in photos} == {"ready"}
    by_sha = {p["sha256"]: p["id"] for p in photos}
    ids = [by_sha[sha256(p)] for p in originals]
    cli.json("photos", "price", *ids, "--amount", "2.50")

    customer = make_cli("customer")
    customer.register("customer")
    customer.json("wallet", "topup", "10")
    order = customer.json("buy", *ids)
    assert order["total_minor"] == 500 and order["status"] == "paid"
    replay = customer.json("buy", *ids, "--idempotency-key", order["idempotency_key"])
    assert replay["order_id"] == order["order_id"]
    assert customer.json("wallet", "show")["wallets"][0]["balance_minor"] == 500

    for photo_id, original in zip(ids, originals, strict=True):
        got = customer.json("download", photo_id, str(tmp_path / "bought"))
        assert Path(got["path"]).read_bytes() == original.read_bytes()

    third = make_cli("third")
    third.register("customer")
    refused = third.run("download", ids[0], str(tmp_path / "third-downloads"))
    assert refused.exit_code == 3 and "not_entitled" in refused.stderr
    assert not (tmp_path / "third-downloads").exists()
