"""Consul ACLs, Connect intentions and the operator certificate of the dev agent.

    python infra/consul/acl.py init  [--state DIR]              before the agent starts
    python infra/consul/acl.py apply [--state DIR] [--addr H:P]  once it runs (idempotent)
    python infra/consul/acl.py operator-cert [--state DIR] [--addr H:P]

``init`` generates, once, the agent's management (bootstrap) token and its node token into
``<state>/`` (``.state/consul/``, mode 700, files 600, never committed) and writes
``<state>/acl.hcl``, the agent config that holds them; no token has a default anywhere.
A dev agent keeps everything in memory, so ``apply`` runs after every start (and on every
``make up``; it is idempotent): it (re)creates each policy and token with the same ids and
secrets, the ``service-intentions`` of ``photo-sidecar`` and the operator's certificate. The
token of each service is ``<state>/tokens/<service>.token``.

Standard library only: services.sh runs it before any project virtualenv is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE = ROOT / ".state" / "consul"
SIDECAR = "photo-sidecar"
OPERATOR = "photostack-operator"
FUNCTIONS = ("photostack-photos", "photostack-transactions", "photostack-upload", "photostack-faces")
APIS = ("photostack-users-api", "photostack-photos-api", "photostack-transactions-api")
# Accessor ids are not secret: derived from the token's name, so `apply` finds its own tokens.
_ACCESSOR_NS = uuid.UUID("6f1c2b4e-6d43-4f5e-9a3c-2f0d6c1b7e90")


def _rules(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def _reader_of_sidecar() -> tuple[str, ...]:
    # Discovery reads the healthy instances: the service and the nodes they run on. A prefix, so
    # that the test suite's own sidecars (photo-sidecar-test-*) are found the same way.
    return (f'service_prefix "{SIDECAR}" {{ policy = "read" }}', 'node_prefix "" { policy = "read" }')


# name -> (description, rules). The least each caller needs.
POLICIES: dict[str, tuple[str, str]] = {
    # Registers itself, fetches its own leaf certificate, asks /agent/connect/authorize (which
    # needs service:write on the target: itself). Nothing else, not even reading other services.
    SIDECAR: ("the photo sidecar: its own registration and Connect identity",
              _rules(f'service "{SIDECAR}" {{ policy = "write" }}')),
    # The operator certificate (grpcurl, the storage check): its own leaf, and where the sidecar
    # is (infra/storage_check.py finds it as the functions do).
    OPERATOR: ("operator tools (grpcurl, the storage check): their own Connect identity",
               _rules(f'service "{OPERATOR}" {{ policy = "write" }}', *_reader_of_sidecar())),
    # infra/deploy.py registers each API with its base URL; the agent's node is read for that.
    "photostack-deploy": ("infra/deploy.py: registers the three APIs",
                          _rules(*(f'service "{api}" {{ policy = "write" }}' for api in APIS),
                                 'node_prefix "" { policy = "read" }')),
    # The test suite's own sidecars (tests/sidecar_process.py) register under names of their
    # own, with intentions they write for those names; never under photo-sidecar.
    "photostack-tests": ("tests: sidecars under photo-sidecar-test-* with their intentions",
                         _rules(f'service_prefix "{SIDECAR}-test-" {{ policy = "write" '
                                'intentions = "write" }',
                                'node_prefix "" { policy = "read" }')),
    # The agent itself: its node's catalog entry and anti-entropy.
    "photostack-agent": ("the dev agent's own node", _rules('node_prefix "" { policy = "write" }',
                                                            'service_prefix "" { policy = "read" }')),
    **{
        # A function reads where the sidecar is; service:write on its own name is what Consul
        # requires to sign its leaf certificate (it could register that name, nothing else).
        fn: (f"function {fn}: find the sidecar, its own Connect identity",
             _rules(f'service "{fn}" {{ policy = "write" }}', *_reader_of_sidecar()))
        for fn in FUNCTIONS
    },
}
# One file each under tokens/.
TOKENS = (SIDECAR, OPERATOR, "photostack-deploy", "photostack-tests", *FUNCTIONS)

# Who may open a connection to the sidecar. Which methods each may then call is the
# sidecar's own table (sidecar/access.py).
INTENTIONS = {
    "Kind": "service-intentions",
    "Name": SIDECAR,
    "Sources": [
        *({"Name": name, "Action": "allow", "Description": "photostack function"} for name in FUNCTIONS),
        {"Name": OPERATOR, "Action": "allow", "Description": "operators (grpcurl), certificate from make up"},
        {"Name": "*", "Action": "deny", "Description": "everything else"},
    ],
}


def log(message: str) -> None:
    print(f"[consul-acl] {message}", file=sys.stderr)


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _secret(path: Path) -> str:
    """The secret stored at ``path``, generated on first use."""
    if not path.exists():
        _write_secret(path, str(uuid.uuid4()) + "\n")
    return path.read_text().strip()


def init(state: Path) -> None:
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(state, 0o700)
    management = _secret(state / "management.token")
    agent = _secret(state / "tokens" / "photostack-agent.token")
    for name in TOKENS:
        _secret(state / "tokens" / f"{name}.token")
    _write_secret(state / "acl.hcl", (
        "# Generated by infra/consul/acl.py init; secrets, never committed.\n"
        "acl {\n"
        "  tokens {\n"
        f'    initial_management = "{management}"\n'
        f'    agent = "{agent}"\n'
        "  }\n"
        "}\n"
    ))


class Agent:
    def __init__(self, addr: str, token: str) -> None:
        self.base = "http://" + addr.removeprefix("http://")
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"X-Consul-Token": self.token})
        with urllib.request.urlopen(request, timeout=5) as reply:
            raw = reply.read()
        return json.loads(raw) if raw else None

    def exists(self, path: str) -> bool:
        try:
            self.call("GET", path)
            return True
        except urllib.error.HTTPError as exc:
            if exc.code in (403, 404):  # an unknown token id answers 403 "ACL not found"
                return False
            raise


def wait_for_acls(agent: Agent, timeout_s: float = 30.0) -> bool:
    """True once the management token works; False when the agent runs without ACLs."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            agent.call("GET", "/v1/acl/token/self")
            return True
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            if exc.code == 401 and "disabled" in body.lower():
                return False
            error = f"{exc.code} {body.strip()}"
        except OSError as exc:
            error = str(exc)
        if time.monotonic() > deadline:
            raise SystemExit(f"Consul ACLs did not become ready: {error}")
        time.sleep(0.3)


def accessor(name: str) -> str:
    return str(uuid.uuid5(_ACCESSOR_NS, name))


def apply(state: Path, addr: str) -> None:
    agent = Agent(addr, _secret(state / "management.token"))
    if not wait_for_acls(agent):
        # An agent started before ACLs were turned on: intentions and certificates work, but
        # nothing is refused to a caller without a token until it is restarted.
        log(f"WARNING: the Consul agent at {addr} runs WITHOUT ACLs (started before they were turned on);"
            " restart it: infra/services.sh restart consul sidecar")
        agent.call("PUT", "/v1/config", INTENTIONS)
        operator_cert(state, addr)
        return
    for name, (description, rules) in POLICIES.items():
        policy = {"Name": name, "Description": description, "Rules": rules}
        try:
            found = agent.call("GET", f"/v1/acl/policy/name/{name}")
        except urllib.error.HTTPError as exc:
            if exc.code not in (403, 404):
                raise
            found = None
        if found:
            agent.call("PUT", f"/v1/acl/policy/{found['ID']}", {**policy, "ID": found["ID"]})
        else:
            agent.call("PUT", "/v1/acl/policy", policy)
    for name in ("photostack-agent", *TOKENS):
        token = {"AccessorID": accessor(name), "SecretID": _secret(state / "tokens" / f"{name}.token"),
                 "Description": f"photostack: {name}", "Policies": [{"Name": name}]}
        if agent.exists(f"/v1/acl/token/{token['AccessorID']}"):
            agent.call("PUT", f"/v1/acl/token/{token['AccessorID']}", token)
        else:
            agent.call("PUT", "/v1/acl/token", token)
    agent.call("PUT", "/v1/config", INTENTIONS)
    operator_cert(state, addr)
    log(f"ACLs, tokens and intentions in place ({addr}); tokens under {state}/tokens/")


def operator_cert(state: Path, addr: str) -> None:
    """Write the operator's Connect leaf (grpcurl -cert/-key/-cacert) under ``<state>/operator/``."""
    agent = Agent(addr, _secret(state / "tokens" / f"{OPERATOR}.token"))
    leaf = agent.call("GET", f"/v1/agent/connect/ca/leaf/{OPERATOR}")
    roots = agent.call("GET", "/v1/agent/connect/ca/roots")
    folder = state / "operator"
    _write_secret(folder / "key.pem", leaf["PrivateKeyPEM"])
    _write_secret(folder / "cert.pem", leaf["CertPEM"])
    _write_secret(folder / "ca.pem", "".join(r["RootCert"].strip() + "\n" for r in roots["Roots"]))
    _write_secret(folder / "valid-before", leaf["ValidBefore"] + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("init", "apply", "operator-cert"))
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    parser.add_argument("--addr", default="127.0.0.1:" + os.environ.get("PHOTOSTACK_CONSUL_PORT", "8500"))
    args = parser.parse_args(argv)
    if args.command == "init":
        init(args.state)
    elif args.command == "apply":
        apply(args.state, args.addr)
    else:
        operator_cert(args.state, args.addr)


if __name__ == "__main__":
    main()
