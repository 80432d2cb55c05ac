"""Rotate the JWT signing key: publish a new key now; it signs once every verifier has it.

    python infra/rotate_jwt_key.py            (what `make rotate-jwt-key` runs: the local stack)
    python infra/rotate_jwt_key.py --aws --secret-id <ARN of JwtSigningKeysSecretArn>

Reads the keys secret, adds a fresh key as the next one (photostack.jwt_keys.rotate), which
signs from PHOTOSTACK_SECRETS_MAX_AGE_S (300 s on AWS) plus a margin after now: by then every
function and the sidecar has re-read the secret and verifies it, so no token is ever signed
with a key a verifier does not know yet. The key it replaces retires then and is kept for the
access-token TTL plus that max age plus a margin, so every token it signed verifies until it
expires; older ones are dropped. A rotation is refused while the last one's key does not sign
yet. Prints kids and times, never keys. Run one rotation at a time.
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


def rotate_secret(client: Any, secret_id: str, *, now: int, keep_s: int,
                  publish_s: int) -> tuple[jwt_keys.KeySet, jwt_keys.KeySet]:
    """Write the rotated key set as the secret's new current version; ``(before, after)``."""
    before = jwt_keys.parse(client.get_secret_value(SecretId=secret_id)["SecretString"])
    after = jwt_keys.rotate(before, now=now, keep_s=keep_s, publish_s=publish_s)
    client.put_secret_value(SecretId=secret_id, SecretString=jwt_keys.dump(after))
    return before, after


def utc(unix_s: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(unix_s))


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
    now = int(time.time())
    try:
        before, after = rotate_secret(client, secret_id, now=now, keep_s=keep_s,
                                      publish_s=jwt_keys.publish_delay_s(args.max_age_s))
    except jwt_keys.RotationInProgress as exc:
        sys.exit(f"not rotated: the last rotation's key signs only from {utc(exc.signs_from)} "
                 f"(in {exc.signs_from - now} s); run this again after that")
    assert after.next is not None
    signing_kid, _ = before.signing_key(now)
    print(f"rotated {secret_id}: kid {after.next.kid} is published now and signs from "
          f"{utc(after.next.signs_from)} (in {after.next.signs_from - now} s, once every copy of the "
          f"secret has been re-read); {signing_kid} signs until then. "
          f"{len(after.previous)} retired key(s) still verify (kept {keep_s} s after retirement)")


if __name__ == "__main__":
    main()
