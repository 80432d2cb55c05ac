"""Schemathesis against the deployed stack, from docs/openapi.json, with valid tokens.

Each operation gets ``examples`` generated requests (positive and negative data mixed), sent to
its own API: the document names each path's API in its ``servers`` (three API Gateway APIs), and
the server variables are filled from the stack outputs. Every response is checked for: no 5xx,
a documented status code, a documented content type, a body that matches the documented schema.
Failures are collected, not raised one by one, so a run reports everything it found.

Used by tests/e2e/test_fuzz.py (a bounded run inside ``make test``) and ``make fuzz`` (longer:
``PHOTOSTACK_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "docs" / "openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SERVER_VARIABLES = {"usersApiUrl": "UsersApiUrl", "photosApiUrl": "PhotosApiUrl",
                    "transactionsApiUrl": "TransactionsApiUrl"}
TIMEOUT = 30


@dataclass(frozen=True)
class Found:
    operation: str
    check: str
    status: int | None
    message: str
    curl: str

    def __str__(self) -> str:
        return f"{self.operation}: [{self.check}] {self.message}\n      {self.curl}"


@dataclass
class Report:
    operations: int = 0
    examples: int = 0
    seconds: float = 0.0
    found: list[Found] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    by_operation: dict[str, dict[int, int]] = field(default_factory=dict)

    def unique(self) -> list[Found]:
        """One failure per operation, check and status (the same bug found many times is one)."""
        seen: dict[tuple[str, str, int | None], Found] = {}
        for f in self.found:
            seen.setdefault((f.operation, f.check, f.status), f)
        return list(seen.values())

    def summary(self) -> str:
        return (f"schemathesis: {self.operations} operations, {self.examples} examples in "
                f"{self.seconds:.0f} s, statuses {dict(sorted(self.statuses.items()))}, "
                f"{len(self.unique())} distinct failures\n" + "\n".join(
                    f"  {label}: {dict(sorted(counts.items()))}"
                    for label, counts in sorted(self.by_operation.items())))


def load_schema(stack: dict[str, str]) -> Any:
    variables = {var: stack[output].rstrip("/") for var, output in SERVER_VARIABLES.items()}
    config = SchemathesisConfig.from_dict({"servers": {"variables": variables}})
    return schemathesis.openapi.from_dict(json.loads(OPENAPI.read_text()), config=config)


def token_for(operation: Any, tokens: dict[str, str]) -> dict[str, str]:
    """A valid bearer token of a role the operation accepts (an admin for admin routes)."""
    definition = operation.definition.raw
    if not definition.get("security"):
        return {}
    roles = definition.get("x-roles") or ["photographer"]
    role = "photographer" if "photographer" in roles else roles[0]
    return {"Authorization": f"Bearer {tokens[role]}"}


def fuzz(stack: dict[str, str], tokens: dict[str, str], examples: int,
         only: Callable[[str], bool] = lambda label: True) -> Report:
    """Run ``examples`` requests per operation; ``tokens``: role -> access token."""
    schema = load_schema(stack)
    report = Report()
    lock = threading.Lock()
    session = requests.Session()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if not only(operation.label):
            continue
        report.operations += 1
        headers = token_for(operation, tokens)
        strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                             operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        _runner(operation, headers, strategy, examples, session, report, lock)()
    report.seconds = time.monotonic() - started
    return report


def _runner(operation: Any, headers: dict[str, str], strategy: Any, examples: int, session: requests.Session,
            report: Report, lock: threading.Lock) -> Callable[[], None]:
    """One operation's Hypothesis test: call, check, record; never stops at a failure."""

    @given(case=strategy)
    @settings(max_examples=examples, phases=[Phase.explicit, Phase.generate], deadline=None,
              database=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = None
        try:
            response = case.call(headers=headers, session=session, timeout=TIMEOUT)
            case.validate_response(response, checks=CHECKS)
        except Failure as one:
            _record(report, lock, operation.label, one, response, case, headers)
        except FailureGroup as group:  # several checks failed on one answer
            for each in group.exceptions:
                _record(report, lock, operation.label, each, response, case, headers)
        finally:
            with lock:
                report.examples += 1
                if response is not None:
                    status = response.status_code
                    report.statuses[status] = report.statuses.get(status, 0) + 1
                    mine = report.by_operation.setdefault(operation.label, {})
                    mine[status] = mine.get(status, 0) + 1

    return run  # type: ignore[no-any-return]


def _record(report: Report, lock: threading.Lock, label: str, failure: Failure, response: Any, case: Any,
            headers: dict[str, str]) -> None:
    status = response.status_code if response is not None else None
    body = ""
    if response is not None:
        body = response.text[:300] if hasattr(response, "text") else ""
    safe = {k: ("Bearer <token>" if k == "Authorization" else v) for k, v in headers.items()}
    found = Found(label, type(failure).__name__, status, f"{failure.title}: {status} {body}".strip(),
                  case.as_curl_command(headers=safe))
    with lock:
        report.found.append(found)
