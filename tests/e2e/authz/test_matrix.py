"""Every cell of matrix.yaml as an HTTP request through API Gateway to the deployed stack.

One scene (scene.py) serves every cell. Cells run in three waves so that no cell changes what
another one reads: every GET first, then the writes the table expects to be refused, then the
writes it expects to succeed (each of those acts on something no other cell needs afterwards).
Within a wave, requests run in parallel. The test fails once, listing every cell that differs.
"""

from __future__ import annotations

import base64
import io
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from PIL import Image
from transactions.config import payment_webhook_secret

from tests.e2e.authz import scene as scenes
from tests.e2e.authz import table
from tests.e2e.journey_support import Apis
from tests.e2e.test_users_e2e import PASSWORD
from tests.payment_fakes import SimulatedProvider

pytestmark = pytest.mark.e2e

TIMEOUT = 60
WORKERS = 12


@dataclass(frozen=True)
class Call:
    api: str  # users | photos | transactions
    path: str  # with the ids filled in
    body: Any = None
    headers: dict[str, str] | None = None
    raw: bytes | None = None  # sent as is instead of ``body``


def _no_face_png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (90, 140, 200)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


NO_FACE = _no_face_png()
API_OF = {op: tags[0] for op, tags in table.openapi_operations().items()}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"matrix-{uuid.uuid4().hex}"}


def _call(s: scenes.Scene, cell: table.Cell, target: str | None) -> Call:
    """The request for one cell; ``target`` is the id the cell names (None: no resource)."""
    op, caller = cell.operation, cell.caller
    account = s.accounts.get(caller)
    path = cell.path
    for name in ("user_id", "event_id", "photo_id", "order_id", "payment_id"):
        if target is not None:
            path = path.replace("{" + name + "}", target)
    match op:
        case "POST /auth/register":
            return Call("users", path, {"email": f"matrix-{uuid.uuid4().hex[:12]}@example.com",
                                        "password": PASSWORD, "display_name": "Matrix", "role": "customer"})
        case "POST /auth/login":
            creds = {"email": account.email, "password": PASSWORD} if account else scenes.unknown_login()
            return Call("users", path, creds)
        case "POST /auth/refresh":
            return Call("users", path, {"refresh_token": account.refresh_for_refresh if account
                                        else "x" * 43})
        case "POST /auth/logout":
            return Call("users", path, {"refresh_token": account.refresh_for_logout if account
                                        else "x" * 43})
        case "PATCH /users/me":
            return Call("users", path, {"display_name": f"Matrix {caller}"})
        case "PATCH /admin/users/{user_id}":
            return Call("users", path, {"disabled": False})
        case "GET /users/me" | "GET /users/{user_id}":
            return Call("users", path)
        case "PUT /users/me/face-indexing":
            return Call("photos", path, {"enabled": True})
        case "POST /events":
            return Call("photos", path, {"name": "Matrix", "date": "2026-05-01"}, _key())
        case "POST /events/{event_id}/face-search":
            return Call("photos", path, {"image_base64": NO_FACE})
        case "PATCH /photos/{photo_id}":
            return Call("photos", path, {"price_minor": scenes.PRICE, "currency": "EUR"})
        case "POST /uploads":
            upload = {"event_id": target, "content_type": "image/jpeg", "size_bytes": 1000}
            return Call("photos", path, upload, _key())
        case "POST /uploads/{photo_id}/complete":
            return Call("photos", path, {"upload_id": "matrix-upload", "parts": [
                {"part_number": 1, "etag": '"0123456789abcdef"'}]})
        case "POST /wallet/topups":
            return Call("transactions", path, {"amount_minor": 100, "currency": "EUR"}, _key())
        case "POST /webhooks/payments":
            if cell.target == "-":  # unsigned
                return Call("transactions", path, {"event_id": f"evt_{uuid.uuid4().hex}",
                                                   "payment_id": str(uuid.uuid4()), "status": "succeeded"})
            hook = SimulatedProvider(payment_webhook_secret()).webhook(str(uuid.uuid4()))
            return Call("transactions", path, headers=hook.headers, raw=hook.body)
        case "POST /orders":
            return Call("transactions", path, {"photo_ids": [target]}, _key())
        case "POST /admin/refunds":
            return Call("transactions", path, {"order_id": target})
    return Call(API_OF[op], path)  # no body: the API that serves it, from the document


def _base(apis: Apis, api: str) -> str:
    return str(getattr(apis, api))


def _send(s: scenes.Scene, cell: table.Cell) -> str | None:
    """None when the answer is the cell's, else what differs."""
    target = s.target_id(cell.resource, cell.target, cell.caller) if cell.resource else None
    if cell.target == "missing" and cell.resource is None:
        target = None
    call = _call(s, cell, target)
    headers = {**s.headers(cell.caller), **(call.headers or {})}
    bases = [_base(s.apis, a) for a in ("users", "photos", "transactions")] if cell.path == "/health" \
        else [_base(s.apis, call.api)]
    problems = []
    for base in bases:
        kwargs: dict[str, Any] = {"data": call.raw} if call.raw is not None else (
            {"json": call.body} if call.body is not None else {})
        r = requests.request(cell.method, base + call.path, headers=headers, timeout=TIMEOUT, **kwargs)
        try:
            body = r.json()
        except ValueError:
            body = r.text
        problem = table.check_answer(cell.expected, r.status_code, body, s.full_access(cell.caller))
        if problem is not None:
            code = body.get("error", {}).get("code") if isinstance(body, dict) and "error" in body else None
            where = f" at {base}" if len(bases) > 1 else ""
            problems.append(problem + (f" ({code})" if code else "") + where)
    return "; ".join(problems) or None


def wave(cell: table.Cell) -> int:
    """0: reads; 1: writes expected to be refused; 2: writes expected to succeed."""
    if cell.method == "GET":
        return 0
    return 2 if 200 <= cell.expected.status < 300 else 1


def run_cells(s: scenes.Scene, cells: list[table.Cell],
              send: Callable[[scenes.Scene, table.Cell], str | None] = _send) -> dict[str, str]:
    differ: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for w in (0, 1, 2):
            batch = [c for c in cells if wave(c) == w]
            for cell, problem in zip(batch, pool.map(lambda c: send(s, c), batch), strict=True):
                if problem is not None:
                    differ[str(cell)] = problem
    return differ


@pytest.fixture(scope="module")
def scene(stack: dict[str, str]) -> scenes.Scene:
    return scenes.build(Apis.of(stack))


def test_every_cell_of_the_matrix(scene: scenes.Scene) -> None:
    data = table.load()
    assert table.shape_errors(data) == []
    cells = table.cells(data)
    time.sleep(max(0.0, scene.ready_at - time.monotonic()))
    started = time.monotonic()
    differ = run_cells(scene, cells)
    took = time.monotonic() - started
    report = "\n".join(f"  {cell}: {problem}" for cell, problem in sorted(differ.items()))
    print(f"\nauthorisation matrix: {table.rows(data)} rows, {len(cells)} cells sent in {took:.1f} s, "
          f"{len(differ)} differ")
    assert not differ, f"{len(differ)} of {len(cells)} cells differ from matrix.yaml:\n{report}"
