"""Product code finds its packages through the environment (the venv's photostack-layer.pth,
Lambda's layers, the sidecar image's PYTHONPATH), never by editing sys.path itself; and reads
its settings in config modules only (once, at cold start), never from os.environ where used."""

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


# The platform probe (deployed to local stacks only) exists to show the variables the runtime set.
ENVIRONMENT_READERS = {ROOT / "functions" / "probe" / "probe.py"}
_ENV_NAMES = {"environ", "environb", "getenv", "getenvb"}


def is_config_module(path: Path) -> bool:
    return path.stem == "config" or path.stem.endswith("_config")


def environment_reads(source: str) -> list[int]:
    """Lines of ``source`` that read the process environment (os.environ, os.getenv, from os import ...)."""
    def reads(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr in _ENV_NAMES and isinstance(node.value, ast.Name) and node.value.id == "os"
        if isinstance(node, ast.ImportFrom):
            return node.module == "os" and any(alias.name in _ENV_NAMES for alias in node.names)
        return False

    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute | ast.ImportFrom) and reads(node)]


def test_settings_are_read_in_config_modules_only() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}"
             for top in PRODUCT for path in sorted(top.rglob("*.py"))
             if "__pycache__" not in path.parts and not is_config_module(path)
             and path not in ENVIRONMENT_READERS
             for line in environment_reads(path.read_text())]
    assert not found, "read settings in a config module:\n" + "\n".join(found)


@pytest.mark.parametrize("snippet", [
    "import os\nlevel = os.environ.get('X')\n",
    "import os\nlevel = os.environ['X']\n",
    "import os\nlevel = os.getenv('X')\n",
    "from os import environ\n",
    "from os import getenv as g\n",
])
def test_the_check_sees_an_environment_read(snippet: str) -> None:
    assert environment_reads(snippet)


def test_the_config_modules_are_where_the_reads_are() -> None:
    configs = [ROOT / "layers" / "core" / "python" / "photostack" / "config.py",
               ROOT / "layers" / "faces" / "python" / "onnx_config.py"]
    assert all(is_config_module(path) and environment_reads(path.read_text()) for path in configs)
