"""The running photo sidecar answers grpcurl: reflection lists it, and calls work by name."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SIDECAR = "127.0.0.1:50051"  # the one `make up` starts


@pytest.fixture(scope="module")
def grpcurl() -> str:
    script = ROOT / "infra" / "tools" / "grpcurl.sh"
    return subprocess.run(["bash", str(script)], check=True, capture_output=True, text=True).stdout.strip()


def run(grpcurl: str, *args: str) -> str:
    result = subprocess.run([grpcurl, "-plaintext", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_reflection_lists_the_photo_service_and_health(grpcurl: str) -> None:
    services = run(grpcurl, SIDECAR, "list").split()
    assert "photostack.photo.v1.PhotoService" in services
    assert "grpc.health.v1.Health" in services
    methods = run(grpcurl, SIDECAR, "list", "photostack.photo.v1.PhotoService").split()
    assert "photostack.photo.v1.PhotoService.ListEventPhotos" in methods


def test_calls_by_name_through_reflection(grpcurl: str) -> None:
    health = json.loads(run(grpcurl, SIDECAR, "grpc.health.v1.Health/Check"))
    assert health == {"status": "SERVING"}
    request = json.dumps({"caller": {"user_id": "grpcurl-test", "role": "customer"}, "limit": 1})
    reply = json.loads(run(grpcurl, "-d", request, SIDECAR, "photostack.photo.v1.PhotoService/ListEvents"))
    assert isinstance(reply.get("events", []), list)
