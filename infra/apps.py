"""Load a function's Chalice app in-process: infra/openapi.py reads its routes, route tests call them.

Every function has an ``app.py``; they are loaded under distinct module names
(``<domain>_app``) so that all domains can be loaded in one process. Each function's own
code lives in a package named after its domain (``functions/users/users/``...), so the
function's folder goes on ``sys.path`` first, as the Lambda runtime has it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"


def load_app(domain: str) -> Any:
    name = f"{domain}_app"
    if name in sys.modules:
        return sys.modules[name].app
    folder = FUNCTIONS / domain
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(name, folder / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.app
