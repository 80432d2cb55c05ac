"""Generate the Python gRPC stubs from ``protos/`` into the shared layer.

    python infra/protos.py            (what `make protos` runs)
    python infra/protos.py --out DIR  (generate elsewhere, e.g. for the drift test)

``protos/photostack/photo/v1/photo.proto`` becomes
``layers/core/python/photostack/photo/v1/photo_pb2{,_grpc}.py`` (+ ``.pyi``), so the
generated ``from photostack.photo.v1 import photo_pb2`` imports resolve wherever
the layer's ``python/`` folder is on ``sys.path`` (Lambda, sidecar, tests).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
LAYER = ROOT / "layers" / "core" / "python"
PACKAGE_DOC = '"""Generated from protos/ by `make protos`; do not edit."""\n'


def proto_files() -> list[Path]:
    return sorted(PROTOS.rglob("*.proto"))


def generated_paths(out: Path) -> list[Path]:
    """Every file that :func:`generate` writes under ``out``."""
    paths: set[Path] = set()
    for proto in proto_files():
        rel = proto.relative_to(PROTOS)
        stem = rel.with_suffix("")
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            paths.add(out / f"{stem}{suffix}")
        for parent in rel.parents:
            # photostack/ itself is the layer package; only the folders below it get an __init__.
            if len(parent.parts) > 1:
                paths.add(out / parent / "__init__.py")
    return sorted(paths)


def generate(out: Path) -> list[Path]:
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    files = [str(p.relative_to(PROTOS)) for p in proto_files()]
    args = [
        "grpc_tools.protoc", f"-I{PROTOS}", f"-I{well_known}",
        f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}", *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    written = generated_paths(out)
    for path in written:
        if path.name == "__init__.py":
            path.write_text(PACKAGE_DOC)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=LAYER)
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    written = generate(out)
    print(f"protos: {len(written)} files under {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
