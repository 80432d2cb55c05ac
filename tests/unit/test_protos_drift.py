"""The checked-in gRPC stubs are exactly what `make protos` generates from protos/."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("photostack_protos_build", ROOT / "infra" / "protos.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("photostack_protos_build", module)
    spec.loader.exec_module(module)
    return module


def test_checked_in_stubs_match_the_protos(tmp_path: Path) -> None:
    gen = _generator()
    written = gen.generate(tmp_path)
    assert written, "no .proto files found under protos/"
    drifted = []
    for fresh in written:
        rel = fresh.relative_to(tmp_path)
        checked_in = gen.LAYER / rel
        if not checked_in.exists() or checked_in.read_bytes() != fresh.read_bytes():
            drifted.append(str(rel))
    assert not drifted, f"stubs differ from protos/ (run `make protos`): {drifted}"


def test_no_stale_stubs_without_a_proto(tmp_path: Path) -> None:
    gen = _generator()
    expected = {p.relative_to(tmp_path) for p in gen.generate(tmp_path)}
    present = {p.relative_to(gen.LAYER) for p in gen.LAYER.rglob("*_pb2*.py*")
               if "__pycache__" not in p.parts}  # bytecode of an import is not a stub
    assert present <= expected, f"stubs without a .proto: {sorted(map(str, present - expected))}"
