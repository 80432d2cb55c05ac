"""Structured logs: one JSON line per event, with request id and function name."""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

from photostack.config import get_platform

request_id_var: ContextVar[str | None] = ContextVar("photostack_request_id", default=None)

_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "function": get_platform().function_name or None,
            "request_id": request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_configured = False


def get_logger(name: str) -> logging.Logger:
    """A logger that writes JSON lines to stdout (which Lambda ships to CloudWatch Logs)."""
    global _configured
    if not _configured:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger("photostack")
        root.handlers[:] = [handler]
        root.setLevel(get_platform().log_level)
        root.propagate = False
        _configured = True
    return logging.getLogger(f"photostack.{name}" if not name.startswith("photostack") else name)


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
