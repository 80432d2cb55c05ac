"""The `photostack` CLI uploads a folder of 50 photos into the deployed stack, with visible
progress, and waits until every photo is ready; the wall time is printed and written to
.state/bench-cli-fifty.txt.

The console script runs as a subprocess, as a photographer would run it; rich draws its live
progress because FORCE_COLOR makes it treat the pipe as a terminal. (Resuming an interrupted
upload is tested in tests/integration/cli.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e import fixtures_images as images
from tests.integration.cli.conftest import Cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".state" / "bench-cli-fifty.txt"
COUNT = 50
SIZE = (1600, 1067)


def test_cli_uploads_fifty_photos_with_progress_until_all_are_ready(stack: dict[str, str],
                                                                    tmp_path: Path) -> None:
    cli = Cli(tmp_path / "photographer", stack)
    cli.register("photographer")
    event_id = cli.json("events", "create", "CLI fifty", "--date", "2025-06-01")["id"]

    folder = tmp_path / "shoot"
    folder.mkdir()
    for i in range(COUNT):
        (folder / f"IMG_{i:04d}.jpg").write_bytes(images.jpeg(*SIZE, seed=1000 + i, quality=90))
    total_mib = sum(p.stat().st_size for p in folder.iterdir()) / 2**20

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | cli.env | {"FORCE_COLOR": "1",
                                                                                 "COLUMNS": "120"}
    started = time.monotonic()
    run = subprocess.run([str(Path(sys.executable).parent / "photostack"), "upload", event_id, str(folder),
                          "--wait-timeout", "300"], env=env, capture_output=True, text=True, timeout=360)
    wall_s = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]

    # Progress: drawn live (terminal control codes), per-file bars, and the overall bar
    # counting files as they finished.
    assert "\x1b[" in run.stderr
    progress = plain_text(run.stderr)
    counted = {int(n) for n in re.findall(r"all files (\d+)/50", progress)}
    assert 50 in counted and len(counted & set(range(1, 50))) >= 5, sorted(counted)
    assert "IMG_00" in progress and "━" in progress
    plain = plain_text(run.stdout)
    assert "50 uploaded" in plain and "processing: 50 ready, 0 failed, 0 still pending" in plain, plain[-800:]
    uploaded_s = float(re.search(r"50 uploaded in ([\d.]+)s", plain).group(1))  # type: ignore[union-attr]

    photos = cli.json("photos", "list", event_id)["photos"]
    assert len(photos) == COUNT and {p["status"] for p in photos} == {"ready"}

    line = (f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z: the CLI uploaded {COUNT} photos "
            f"({SIZE[0]}x{SIZE[1]} JPEG, {total_mib:.1f} MiB) in {uploaded_s:.1f} s; all ready after "
            f"{wall_s:.1f} s wall time (command start to exit, {os.cpu_count()} CPUs)")
    print(line)
    BENCH.parent.mkdir(exist_ok=True)
    BENCH.write_text(line + "\n")


def plain_text(terminal_output: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal_output)
