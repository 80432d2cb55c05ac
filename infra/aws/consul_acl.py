"""Consul's ACLs, tokens and intentions on AWS: the consul-acl one-off task (docs/deploy-aws.md).

    python -m infra.aws.consul_acl [--addr HOST:PORT] [--secret-id ARN]

Defaults: ``PHOTOSTACK_CONSUL_SERVERS`` and ``PHOTOSTACK_CONSUL_ACL_SECRET_ARN``, which the tools
task of infra/aws/infra.yaml sets. The Consul servers there start with ACLs on (deny by default)
and no token at all. This:

1. reads the secret (``{}`` the first time);
2. makes sure a management token works: the stored one, or else Consul's one-time ACL bootstrap
   (``PUT /v1/acl/bootstrap``) with the stored or a new secret id; a cluster that lost all its
   state (all three servers replaced at once) accepts it again, so the id stays the same;
3. keeps every stored token and makes a random UUID for each missing one (Consul token secrets
   are UUIDs, which Secrets Manager cannot generate);
4. writes them back, with ``client_config`` (the client agents' config, their agent token: ECS
   hands it to the consul-client container as ``CONSUL_LOCAL_CONFIG``) *before* creating
   anything, so no token exists in Consul that the secret does not hold;
5. runs ``apply`` of infra/consul/acl.py with them: the same policies, tokens and intentions as
   the local stack, so the sidecar, the functions and the access table behave as under `make up`.

Idempotent: run it after the first deploy and whenever the servers lost their state. Prints
names, never tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.error
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from infra.consul import acl

MANAGEMENT = "management"
CLIENT_CONFIG = "client_config"
AGENT = "photostack-agent"
# Every token acl.apply creates (the agent's own first), one key each in the secret.
TOKEN_NAMES = (AGENT, *acl.TOKENS)


class SecretStore(Protocol):
    def read(self) -> str: ...
    def write(self, value: str) -> None: ...


class SecretsManagerSecret:
    """One Secrets Manager secret, read and written whole."""

    def __init__(self, secret_id: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("secretsmanager")
        self.secret_id = secret_id
        self._client = client

    def read(self) -> str:
        return str(self._client.get_secret_value(SecretId=self.secret_id)["SecretString"])

    def write(self, value: str) -> None:
        self._client.put_secret_value(SecretId=self.secret_id, SecretString=value)


def is_token(value: object) -> bool:
    """Whether ``value`` is usable as a Consul token secret (a UUID)."""
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def planned(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The secret's next content: stored tokens kept, a new UUID for each missing or malformed one."""
    tokens = {name: stored[name] if is_token(stored.get(name)) else str(uuid.uuid4())
              for name in (MANAGEMENT, *TOKEN_NAMES)}
    client = {"acl": {"tokens": {"agent": tokens[AGENT]}}}
    return {**tokens, CLIENT_CONFIG: json.dumps(client, sort_keys=True)}


def parse_stored(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise SystemExit(f"the Consul ACL secret is not JSON ({exc.msg}); fix or empty it ({{}})") from exc
    if not isinstance(value, dict):
        raise SystemExit("the Consul ACL secret must be a JSON object")
    return value


def write_state(folder: Path, document: Mapping[str, Any]) -> None:
    """The files acl.apply reads: ``management.token`` and ``tokens/<name>.token`` (mode 600)."""
    acl._write_secret(folder / "management.token", document[MANAGEMENT] + "\n")
    for name in TOKEN_NAMES:
        acl._write_secret(folder / "tokens" / f"{name}.token", document[name] + "\n")


def ensure_management(addr: str, management: str) -> str:
    """How the management token came to work: 'kept' or 'bootstrapped'."""
    agent = acl.Agent(addr, management)
    try:
        agent.call("GET", "/v1/acl/token/self")
        return "kept"
    except urllib.error.HTTPError as exc:
        if exc.code not in (401, 403):
            raise
    try:
        reply = acl.Agent(addr, "").call("PUT", "/v1/acl/bootstrap", {"BootstrapSecret": management})
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace").strip()
        raise SystemExit(
            f"Consul refused the ACL bootstrap ({exc.code} {body}) and the stored management token "
            "does not work: the cluster was bootstrapped with another token. Reset it "
            "(https://developer.hashicorp.com/consul/docs/secure/acl/reset) and run this again.") from exc
    if reply.get("SecretID") != management:
        raise SystemExit("Consul bootstrapped its ACLs with a token other than the one asked for")
    return "bootstrapped"


def run(addr: str, store: SecretStore) -> dict[str, Any]:
    stored = parse_stored(store.read())
    document = planned(stored)
    if document != {key: stored.get(key) for key in document}:
        store.write(json.dumps({**stored, **document}, sort_keys=True))
        log(f"stored tokens: {', '.join(sorted(k for k in document if stored.get(k) != document[k]))}")
    how = ensure_management(addr, document[MANAGEMENT])
    log(f"management token {how}")
    with tempfile.TemporaryDirectory(prefix="consul-acl-") as folder:
        write_state(Path(folder), document)
        acl.apply(Path(folder), addr)
    return document


def log(message: str) -> None:
    print(f"[consul-acl] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addr", default=os.environ.get("PHOTOSTACK_CONSUL_SERVERS", ""),
                        help="a Consul server's HTTP API (default: PHOTOSTACK_CONSUL_SERVERS)")
    parser.add_argument("--secret-id", default=os.environ.get("PHOTOSTACK_CONSUL_ACL_SECRET_ARN", ""),
                        help="the secret that holds the tokens (default: PHOTOSTACK_CONSUL_ACL_SECRET_ARN)")
    args = parser.parse_args(argv)
    if not args.addr or not args.secret_id:
        parser.error("--addr and --secret-id are required (or their environment variables)")
    run(args.addr, SecretsManagerSecret(args.secret_id))


if __name__ == "__main__":
    main()
