"""Publish the web app (web/dist, built by infra/web.sh) to the stack's web bucket.

Called by infra/deploy.py once the stack outputs are known:

- builds the app if its sources changed (infra/web.sh, a no-op otherwise);
- uploads every file of web/dist whose bytes differ from the bucket's copy, each with its
  content type (S3 answers with the type it was given) and a cache policy: hashed assets are
  immutable, ``index.html`` and ``config.json`` are revalidated on every load;
- writes ``config.json``: the three API base URLs from the outputs, so the same build runs
  against any stack;
- removes objects the new build no longer has (old hashed bundles).

LocalStack's website host names (``*.s3-website.localhost.localstack.cloud``) need its DNS,
which has no upstream here, so locally the app is served path-style from the S3 endpoint:
``http://127.0.0.1:4566/<bucket>/index.html``, the same origin as the path-style API URLs.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def site_config(outputs: dict[str, str], *, simulated_payments: bool) -> dict[str, Any]:
    """What the app reads at start (web/src/api.ts AppConfig)."""
    return {
        "usersApiUrl": outputs["UsersApiUrl"],
        "photosApiUrl": outputs["PhotosApiUrl"],
        "transactionsApiUrl": outputs["TransactionsApiUrl"],
        "simulatedPayments": simulated_payments,
    }


def site_files(dist: Path | None = None) -> dict[str, bytes]:
    """Object key -> bytes for every file of the build (the build stamp is not published)."""
    dist = dist or DIST
    return {str(p.relative_to(dist)): p.read_bytes() for p in sorted(dist.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def _etag(blob: bytes) -> str:
    return '"' + hashlib.md5(blob, usedforsecurity=False).hexdigest() + '"'


def publish(s3: Any, bucket: str, outputs: dict[str, str], *, endpoint: str,
            simulated_payments: bool) -> str:
    """Sync the build and its config into ``bucket``; the URL people open locally."""
    subprocess.run(["bash", str(ROOT / "infra" / "web.sh")], check=True)
    files = site_files()
    if "index.html" not in files:
        raise SystemExit("web/dist has no index.html: the web app did not build (bash infra/web.sh)")
    files["config.json"] = json.dumps(site_config(outputs, simulated_payments=simulated_payments),
                                      indent=2).encode()
    existing: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        existing.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
    sent = 0
    for key, blob in files.items():
        if existing.get(key) == _etag(blob):
            continue
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        s3.put_object(Bucket=bucket, Key=key, Body=blob, ContentType=content_type(key), CacheControl=cache)
        sent += 1
    stale = [k for k in existing if k not in files]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]]})
    print(f"  web app: {sent} of {len(files)} files uploaded, {len(stale)} removed, to s3://{bucket}")
    return f"{endpoint}/{bucket}/index.html"
