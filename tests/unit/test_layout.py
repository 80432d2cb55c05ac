"""Product code finds its packages through the environment (the venv's photostack-layer.pth,
Lambda's layers, the sidecar image's PYTHONPATH), never by editing sys.path itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [ROOT / "functions", ROOT / "layers", ROOT / "sidecar"]


def sys_path_edits(source: str) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute) and node.attr == "path"
            and isinstance(node.value, ast.Name) and node.value.id == "sys"]


def test_no_product_module_touches_sys_path() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}"
             for top in PRODUCT for path in sorted(top.rglob("*.py")) if "__pycache__" not in path.parts
             for line in sys_path_edits(path.read_text())]
    assert not found, found


def test_the_check_sees_an_edit() -> None:
    assert sys_path_edits("import sys\nsys.path.insert(0, 'x')\n") == [2]
