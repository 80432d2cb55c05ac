"""The one scene every matrix cell is asked against, built through the deployed stack the way
people build it: real accounts (register, sign in), events, photos uploaded through POST
/uploads and the presigned PUT until the upload function made them ready, priced, wallets
topped up by a signed webhook, orders placed. Only the admin is promoted with the operator's
command (``python -m users.admin promote``), the one way an admin comes to exist.

See matrix.yaml for who is who; ``target_id`` resolves a (resource, target, caller) to an id.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from users import admin as admin_cli

from tests.e2e import fixtures_images as images
from tests.e2e.journey_support import Apis, Person, Upload, fund, reserve, send, set_price, wait_processed
from tests.e2e.test_users_e2e import PASSWORD, auth, login, register

TIMEOUT = 60
PRICE = 500
# How long a warm function may keep an account's old status (photostack.account_status).
STATUS_CACHE_S = 3.0


@dataclass
class Account:
    caller: str
    id: str
    email: str
    headers: dict[str, str]
    refresh_for_refresh: str  # a login of its own for the /auth/refresh cell
    refresh_for_logout: str  # and one for the /auth/logout cell


@dataclass
class Scene:
    apis: Apis
    accounts: dict[str, Account]  # by caller; no "anonymous"
    events: dict[str, str] = field(default_factory=dict)  # E, EP, EO, EOP, EQ -> id
    photos: dict[str, str] = field(default_factory=dict)  # X, Y, D, Z, W, DO, ZO, V -> id
    orders: dict[str, str] = field(default_factory=dict)  # B, O -> order id
    payments: dict[str, str] = field(default_factory=dict)  # caller -> a pending top-up of theirs
    ready_at: float = 0.0

    def headers(self, caller: str) -> dict[str, str]:
        account = self.accounts.get(caller)
        return dict(account.headers) if account else {}

    def full_access(self, caller: str) -> set[str]:
        """Photo ids this caller may have clean: its own, those it bought (admins: every one)."""
        own = {"owner": {"X", "Y", "D", "Z"}, "other": {"W", "DO", "ZO"}, "disabled": {"V"}}
        bought = {"buyer": {"X"}, "other": {"Y"}}
        if caller == "admin":
            return set(self.photos.values())
        return {self.photos[n] for n in own.get(caller, set()) | bought.get(caller, set())}

    def target_id(self, resource: str, target: str, caller: str) -> str:
        if target == "missing":
            return str(uuid.uuid4())
        if resource in ("user", "payment"):
            whose = caller if target == "own" else ("buyer" if caller == "customer" else "customer")
            return self.accounts[whose].id if resource == "user" else self.payments[whose]
        table: dict[str, dict[str, dict[str, str]]] = {
            "event": {"own": {"owner": "E", "other": "EO", "disabled": "EQ"},
                      "other": {"*": "E", "owner": "EO"}, "private": {"*": "EP", "owner": "EOP"}},
            "photo": {"own": {"owner": "X", "other": "W", "disabled": "V"},
                      "other": {"*": "X", "owner": "W"}, "private": {"*": "Z", "owner": "ZO"}},
            "spare_photo": {"own": {"owner": "D", "other": "DO", "disabled": "V"},
                            "other": {"*": "D", "owner": "DO"}, "private": {"*": "Z", "owner": "ZO"}},
            "order": {"own": {"buyer": "B", "other": "O"}, "other": {"*": "B", "buyer": "O"}},
            "spare_order": {"own": {"buyer": "B", "other": "O"}, "other": {"*": "O", "other": "B"}},
        }
        names = table[resource][target]
        name = names.get(caller, names.get("*"))
        if name is None:
            raise KeyError(f"{caller} has no {target} {resource}")
        pool = self.orders if resource.endswith("order") else (
            self.events if resource == "event" else self.photos)
        return pool[name]


def _account(apis: Apis, caller: str, role: str) -> Account:
    user = register(apis.users, role=role)
    first = login(apis.users, user["email"])
    second = login(apis.users, user["email"])
    third = login(apis.users, user["email"])
    return Account(caller, user["id"], user["email"], auth(first), second["refresh_token"],
                   third["refresh_token"])


def _event(apis: Apis, who: Account, visibility: str) -> str:
    r = requests.post(f"{apis.photos}/events", headers={**who.headers, "Idempotency-Key": uuid.uuid4().hex},
                      json={"name": f"Matrix {visibility}", "date": "2026-05-01", "place": "Lyon",
                            "visibility": visibility}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _order(apis: Apis, who: Account, photo_id: str) -> str:
    r = requests.post(f"{apis.transactions}/orders", json={"photo_ids": [photo_id]}, timeout=TIMEOUT,
                      headers={**who.headers, "Idempotency-Key": f"matrix-{uuid.uuid4().hex}"})
    assert r.status_code == 201, r.text
    return str(r.json()["order_id"])


def _pending_topup(apis: Apis, who: Account) -> str:
    headers = {**who.headers, "Idempotency-Key": f"matrix-{uuid.uuid4().hex}"}
    r = requests.post(f"{apis.transactions}/wallet/topups", json={"amount_minor": 100, "currency": "EUR"},
                      headers=headers, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return str(r.json()["payment_id"])


def build(apis: Apis) -> Scene:
    roles = {"customer": "customer", "buyer": "customer", "owner": "photographer",
             "other": "photographer", "admin": "customer", "disabled": "photographer"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        accounts = dict(zip(roles, pool.map(lambda c: _account(apis, c, roles[c]), roles), strict=True))
    assert admin_cli.main(["promote", accounts["admin"].email]) == 0
    # The promotion shows in the next sign-in's token.
    admin = accounts["admin"]
    accounts["admin"] = Account("admin", admin.id, admin.email, auth(login(apis.users, admin.email)),
                                admin.refresh_for_refresh, admin.refresh_for_logout)
    scene = Scene(apis, accounts)

    owner, other, disabled = accounts["owner"], accounts["other"], accounts["disabled"]
    plan = [("E", owner, "public"), ("EP", owner, "private"), ("EO", other, "public"),
            ("EOP", other, "private"), ("EQ", disabled, "public")]
    with ThreadPoolExecutor(max_workers=5) as pool:
        ids = list(pool.map(lambda p: _event(apis, p[1], p[2]), plan))
    scene.events = {name: event_id for (name, _, _), event_id in zip(plan, ids, strict=True)}

    photos = [("X", owner, "E"), ("Y", owner, "E"), ("D", owner, "E"), ("Z", owner, "EP"),
              ("W", other, "EO"), ("DO", other, "EO"), ("ZO", other, "EOP"), ("V", disabled, "EQ")]

    def upload(item: tuple[int, tuple[str, Account, str]]) -> Upload:
        seed, (_, who, event) = item
        data = images.jpeg(480, 320, seed=900 + seed)
        sent = reserve(apis, _person(who), scene.events[event], data, "image/jpeg")
        send(apis, _person(who), sent)
        return sent

    with ThreadPoolExecutor(max_workers=8) as pool:
        uploads = list(pool.map(upload, enumerate(photos)))
    scene.photos = {name: u.photo_id for (name, _, _), u in zip(photos, uploads, strict=True)}
    for who in (owner, other, disabled):
        mine = [scene.photos[name] for name, w, _ in photos if w is who]
        done = wait_processed(apis, _person(who), mine)
        assert all(p["status"] == "ready" for p in done.values()), done

    def price(item: tuple[str, Account, str]) -> None:
        set_price(apis, _person(item[1]), scene.photos[item[0]], PRICE)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(price, photos))
        # Funds for the fixture orders and for every order cell the matrix expects to succeed.
        list(pool.map(lambda c: fund(apis.transactions, accounts[c].headers, 10 * PRICE),
                      ("customer", "buyer", "owner", "other", "admin")))
    with ThreadPoolExecutor(max_workers=6) as pool:
        scene.payments = dict(zip(roles, pool.map(lambda c: _pending_topup(apis, accounts[c]), roles),
                                  strict=True))
    scene.orders = {"B": _order(apis, accounts["buyer"], scene.photos["X"]),
                    "O": _order(apis, other, scene.photos["Y"])}

    r = requests.patch(f"{apis.users}/admin/users/{disabled.id}", json={"disabled": True},
                       headers=accounts["admin"].headers, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["disabled"] is True, r.text
    scene.ready_at = time.monotonic() + STATUS_CACHE_S
    return scene


def _person(account: Account) -> Person:
    return Person(account.id, account.email, account.headers)


def unknown_login() -> dict[str, str]:
    return {"email": f"nobody-{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD}
