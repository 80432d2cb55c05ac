"""Rotate the JWT signing key: a new key signs from now on, the old ones verify until their tokens expire.

    python infra/rotate_jwt_key.py            (what `make rotate-jwt-key` runs: the local stack)
    python infra/rotate_jwt_key.py --aws --secret-id <ARN of JwtSigningKeysSecretArn>

Reads the keys secret, makes a fresh key current (photostack.jwt_keys.rotate), keeps the
retired keys for the access-token TTL plus how long a warm function may keep signing with
one (PHOTOSTACK_SECRETS_MAX_AGE_S, 300 s on AWS) plus a margin, drops older ones, and writes
the result as the secret's new version. Functions and the sidecar see the new kid at once
when they meet a token signed with it (an unknown kid re-reads the secret), and sign with
the new key once their copy ages out. Prints kids, never keys. Run one rotation at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))
from photostack import jwt_keys  # noqa: E402 (the layer is a folder)
from photostack.config import get_settings  # noqa: E402

ENDPOINT = os.environ.get("PHOTOSTACK_AWS_ENDPOINT", "http://127.0.0.1:4566")
STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
AWS_MAX_AGE_S = 300  # template.yaml's PHOTOSTACK_SECRETS_MAX_AGE_S outside local; the longer of the two


def local_secret_id() -> str:
    """The local stack's keys secret: its ARN from the stack outputs, else its name."""
    if STACK_OUTPUTS.exists():
        arn = json.loads(STACK_OUTPUTS.read_text()).get("JwtSigningKeysSecretArn")
        if arn:
            return str(arn)
    return os.environ.get("PHOTOSTACK_STACK", "photostack") + "/jwt-signing-keys"


def rotate_secret(client: Any, secret_id: str, *, now: int,
                  keep_s: int) -> tuple[jwt_keys.KeySet, jwt_keys.KeySet]:
    """Write the rotated key set as the secret's new current version; ``(before, after)``."""
    before = jwt_keys.parse(client.get_secret_value(SecretId=secret_id)["SecretString"])
    after = jwt_keys.rotate(before, now=now, keep_s=keep_s)
    client.put_secret_value(SecretId=secret_id, SecretString=jwt_keys.dump(after))
    return before, after


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret-id", help="ARN or name of the keys secret (default: the local stack's)")
    parser.add_argument("--aws", action="store_true",
                        help="use AWS itself (default credentials), not LocalStack")
    parser.add_argument("--access-token-ttl-s", type=int, default=get_settings().access_token_ttl_s)
    parser.add_argument("--max-age-s", type=int, default=AWS_MAX_AGE_S,
                        help="the functions' PHOTOSTACK_SECRETS_MAX_AGE_S")
    args = parser.parse_args(argv)
    if args.aws:
        if not args.secret_id:
            parser.error("--aws needs --secret-id (the stack output JwtSigningKeysSecretArn)")
        client = boto3.client("secretsmanager")
    else:
        client = boto3.client("secretsmanager", endpoint_url=ENDPOINT, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")  # LocalStack's
    secret_id = args.secret_id or local_secret_id()
    keep_s = jwt_keys.retention_s(args.access_token_ttl_s, args.max_age_s)
    before, after = rotate_secret(client, secret_id, now=int(time.time()), keep_s=keep_s)
    dropped = len(before.previous) + 1 - len(after.previous)
    print(f"rotated {secret_id}: kid {before.current_kid} -> {after.current_kid}; "
          f"{len(after.previous)} previous key(s) still verify (kept {keep_s} s after retirement), "
          f"{dropped} dropped")


if __name__ == "__main__":
    main()
