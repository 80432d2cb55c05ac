"""Write docs/openapi.json from the Chalice apps' route tables (see photostack_cli.openapi).

    python infra/openapi.py           write docs/openapi.json
    python infra/openapi.py --check   exit 1 if the committed file differs from a fresh build
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "openapi.json"
APIS = ("users", "photos", "transactions")

for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "cli"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def apps() -> dict[str, Any]:
    from tests.apps import load_app  # the same loader as the route tests: one module per app

    return {api: load_app(api) for api in APIS}


def upload_limits() -> Any:
    from photostack_cli.api_spec import UploadLimits

    from tests.apps import load_app

    load_app("photos")  # puts functions/photos on sys.path
    from photos import domain
    from photostack import contract

    return UploadLimits(contract.CONTENT_TYPES, contract.MAX_UPLOAD_BYTES, domain.MULTIPART_THRESHOLD,
                        domain.PART_BYTES)


def document() -> dict[str, Any]:
    from photostack_cli.openapi import build

    loaded = apps()
    return build(loaded, upload_limits())


def generate() -> str:
    from photostack_cli.openapi import render

    return render(document())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = generate()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run python infra/openapi.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
