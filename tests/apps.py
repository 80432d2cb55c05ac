"""Load a function's Chalice app in-process for route tests (the loader infra/openapi.py uses too)."""

from __future__ import annotations

from infra.apps import FUNCTIONS, load_app

__all__ = ["FUNCTIONS", "load_app"]
