"""A LocalStack of a test's own: its virtualenv, a free port, a temporary folder, the checkout's
plugin code on the path with the entry points the test names, so the shared stack is not disturbed."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[3]
LS_PYTHON = ROOT / ".state" / "localstack-venv" / "bin" / "python"
EXECUTOR = ROOT / "infra" / "localstack" / "executor"


class OwnLocalStack:
    def __init__(self, tmp: Path, *, dist_name: str, entry_points: str, base_env: Mapping[str, str],
                 env: Mapping[str, str]) -> None:
        """``entry_points``: the text of an entry_points.txt, declared by a package ``dist_name`` of
        the test's own; ``base_env`` under the settings every such LocalStack gets, ``env`` over them."""
        self.tmp = tmp
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        # The checkout's package first on the path, with entry points of its own.
        dist = tmp / "site" / f"{dist_name.replace('-', '_')}-0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0\n")
        (dist / "entry_points.txt").write_text(entry_points)
        # A temp folder of its own: LocalStack empties its temp folder when it starts, and by default
        # (it takes this machine for a container) that is the machine's /tmp/localstack.
        (tmp / "tmp").mkdir()
        self.env = {**base_env, "GATEWAY_LISTEN": f"127.0.0.1:{self.port}", "TMPDIR": str(tmp / "tmp"),
                    "LOCALSTACK_VOLUME_DIR": str(tmp / "volume"), "PYTHONPATH": f"{EXECUTOR}:{tmp / 'site'}",
                    "DNS_ADDRESS": "0", "SKIP_SSL_CERT_DOWNLOAD": "1", "DISABLE_EVENTS": "1",
                    "LOCALSTACK_TELEMETRY": "0", **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return (self.tmp / f"localstack-{self.starts}.log").read_text(errors="replace")

    def launch(self) -> subprocess.Popen[bytes]:
        """Starts the process (its output in localstack-<n>.log), without waiting for it."""
        self.starts += 1
        with open(self.tmp / f"localstack-{self.starts}.log", "wb") as log:
            self.process = subprocess.Popen([str(LS_PYTHON), "-m", "localstack.runtime.main"], env=self.env,
                                            cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT)
        return self.process

    def kill_9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",  # type: ignore[call-overload]
                            aws_access_key_id="test", aws_secret_access_key="test")
