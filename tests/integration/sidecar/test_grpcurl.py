"""The running photo sidecar answers grpcurl with the operator certificate `make up` issues.

Reflection lists it and calls work by name, over mutual TLS as ``photostack-operator``
(certificate and key in .state/consul/operator/; the sidecar's serving certificate in
.state/sidecar/serving.pem); a person's method needs that person's access token, like every
other caller. Without the certificate nothing answers.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.identity import person

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SIDECAR = "127.0.0.1:15051"  # the one `make up` starts
OPERATOR = ROOT / ".state" / "consul" / "operator"
SERVING = ROOT / ".state" / "sidecar" / "serving.pem"


@pytest.fixture(scope="module")
def grpcurl() -> str:
    script = ROOT / "infra" / "tools" / "grpcurl.sh"
    return subprocess.run(["bash", str(script)], check=True, capture_output=True, text=True).stdout.strip()


def tls() -> list[str]:
    # The sidecar's serving certificate (what Consul lists for it, written by the sidecar for
    # operators) and its name; the operator's Connect certificate for the client side.
    return ["-cacert", str(SERVING), "-servername", "photo-sidecar", "-cert", str(OPERATOR / "cert.pem"),
            "-key", str(OPERATOR / "key.pem")]


def run(grpcurl: str, *args: str) -> str:
    result = subprocess.run([grpcurl, *tls(), *args], capture_output=True, text=True, timeout=30)
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
    token = person(f"grpcurl-{uuid.uuid4().hex[:8]}", "customer").access_token
    reply = json.loads(run(grpcurl, "-H", f"authorization: Bearer {token}", "-d", '{"limit": 1}', SIDECAR,
                           "photostack.photo.v1.PhotoService/ListEvents"))
    assert isinstance(reply.get("events", []), list)


def test_without_a_token_or_without_the_certificate_nothing_answers(grpcurl: str) -> None:
    no_token = subprocess.run(
        [grpcurl, *tls(), "-d", "{}", SIDECAR, "photostack.photo.v1.PhotoService/ListEvents"],
        capture_output=True, text=True, timeout=30)
    assert no_token.returncode != 0 and "Unauthenticated" in no_token.stderr
    plaintext = subprocess.run([grpcurl, "-plaintext", SIDECAR, "list"], capture_output=True, text=True,
                               timeout=30)
    assert plaintext.returncode != 0
