"""``photostack``: sign in, create events, upload folders, browse, top up, buy and download.

Exit codes: 0 done; 1 the API refused (4xx) or photos failed processing; 2 usage or
configuration; 3 not logged in / not allowed (401, 403); 4 a service or storage is
unreachable or failing (5xx); 130 interrupted. With ``--json`` every command prints one
JSON document on stdout, errors included (``{"error": {"status", "code", "message"}}``).
"""

from __future__ import annotations

import functools
import json
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from photostack_cli import admin, config, money
from photostack_cli.client import ApiError, Client
from photostack_cli.journal import Journal
from photostack_cli.uploader import (
    FileResult,
    Stopped,
    Uploader,
    collect_files,
    summarize,
    wait_for_processing,
)
from photostack_cli.webhook import signed_payment_webhook

app = typer.Typer(help="photostack: event photos from the command line.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
events_app = typer.Typer(help="Create and list events.", no_args_is_help=True)
photos_app = typer.Typer(help="List photos and set their prices.", no_args_is_help=True)
wallet_app = typer.Typer(help="Top up and show your wallet.", no_args_is_help=True)
config_app = typer.Typer(help="Show or change the CLI's settings.", no_args_is_help=True)
admin_app = typer.Typer(help="Operator commands on the deployment itself.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(photos_app, name="photos")
app.add_typer(wallet_app, name="wallet")
app.add_typer(config_app, name="config")
app.add_typer(admin_app, name="admin")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_REFUSED, EXIT_USAGE, EXIT_AUTH, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 1, 2, 3, 4, 130

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document for scripts.")]


def exit_code_for(exc: ApiError) -> int:
    if exc.code == "not_logged_in" or exc.status in (401, 403):
        return EXIT_AUTH
    if exc.status == 0 or exc.status >= 500:
        return EXIT_UNAVAILABLE
    return EXIT_REFUSED


def emit_json(data: Any) -> None:
    # print(), not rich: the document must reach stdout byte for byte.
    print(json.dumps(data, indent=2, default=str))


def fail(message: str, code: str, exit_code: int, as_json: bool, status: int = 0) -> typer.Exit:
    if as_json:
        emit_json({"error": {"status": status, "code": code, "message": message}})
    else:
        # soft_wrap: an error line stays one line, whatever the terminal width (grep-able).
        err.print(f"[red]error:[/] {message} [dim]({code}{f', HTTP {status}' if status else ''})[/]",
                  soft_wrap=True, markup=True)
    return typer.Exit(exit_code)


def command[F: Callable[..., Any]](fn: F) -> F:
    """Turn API, configuration and interrupt errors into a message and an exit code."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            raise fail(exc.message, exc.code, exit_code_for(exc), as_json, exc.status) from None
        except config.ConfigError as exc:
            raise fail(str(exc), "config_error", EXIT_USAGE, as_json) from None
        except (KeyboardInterrupt, Stopped):
            message = "interrupted" + ("; run the same command again to resume the upload"
                                       if fn.__name__ == "upload" else "")
            raise fail(message, "interrupted", EXIT_INTERRUPTED, as_json) from None

    return wrapped  # type: ignore[return-value]


@app.callback()
def main(
    ctx: typer.Context,
    users_url: Annotated[str | None, typer.Option(help="Users API base URL.")] = None,
    photos_url: Annotated[str | None, typer.Option(help="Photos API base URL.")] = None,
    transactions_url: Annotated[str | None, typer.Option(help="Transactions API base URL.")] = None,
) -> None:
    ctx.obj = {"users": users_url, "photos": photos_url, "transactions": transactions_url}


def client(ctx: typer.Context) -> Client:
    root = ctx.find_root()
    return Client(config.resolve(root.obj or {}))


def _usage(message: str, as_json: bool) -> typer.Exit:
    return fail(message, "usage", EXIT_USAGE, as_json)


def _amount(api: Client, amount: str, currency: str | None, as_json: bool) -> tuple[int, str]:
    """An amount typed by a person ("12.50") in minor units, and its currency (default from config)."""
    try:
        minor = money.to_minor(amount)
    except ValueError as exc:
        raise _usage(str(exc), as_json) from None
    return minor, (currency or api.settings.currency).upper()


# ---- accounts --------------------------------------------------------------------------


@app.command()
@command
def register(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str, typer.Option("--name", prompt="Display name")],
    role: Annotated[str, typer.Option(help="customer or photographer")] = "customer",
    login_after: Annotated[bool, typer.Option("--login/--no-login", help="Sign in afterwards.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Create an account (and sign in)."""
    api = client(ctx)
    user = api.post("users", "/auth/register",
                    {"email": email, "password": password, "display_name": name, "role": role}, auth=False)
    if login_after:
        tokens = api.post("users", "/auth/login", {"email": email, "password": password}, auth=False)
        api.store_tokens(tokens, email)
    if as_json:
        emit_json(user)
    else:
        out.print(f"registered {user.get('email', email)} as {user.get('role', role)} ({user.get('id')})"
                  + ("; signed in" if login_after else ""))


@app.command()
@command
def login(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    as_json: JsonOpt = False,
) -> None:
    """Sign in; the tokens are kept in the config folder and refreshed when they expire."""
    api = client(ctx)
    tokens = api.post("users", "/auth/login", {"email": email, "password": password}, auth=False)
    api.store_tokens(tokens, email)
    user = tokens.get("user") or {}
    if as_json:
        emit_json({"user": user, "expires_in": tokens.get("expires_in")})
    else:
        out.print(f"signed in as {user.get('email', email)} ({user.get('role', '?')})")


@app.command()
@command
def logout(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Sign out: the refresh token is revoked and the local tokens forgotten."""
    api = client(ctx)
    refresh_token = api.credentials.get("refresh_token")
    if refresh_token:
        try:
            api.post("users", "/auth/logout", {"refresh_token": refresh_token}, auth=False)
        except ApiError as exc:
            if exc.status != 401:  # an already-dead session is what we wanted anyway
                raise
    config.forget_credentials()
    if as_json:
        emit_json({"logged_out": True})
    else:
        out.print("signed out")


@app.command()
@command
def whoami(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the signed-in account."""
    me = client(ctx).get("users", "/users/me")
    if as_json:
        emit_json(me)
    else:
        out.print(f"{me.get('display_name')} <{me.get('email')}> {me.get('role')} ({me.get('id')})")


# ---- events ----------------------------------------------------------------------------


def _table(*columns: str) -> Table:
    table = Table()
    for name in columns:
        # Ids are for copying: never shortened.
        table.add_column(name, min_width=36 if name in ("id", "photo") else None,
                         no_wrap=name in ("id", "photo"))
    return table


def _events_table(events: list[dict[str, Any]]) -> Table:
    table = _table("id", "name", "date", "place", "visibility")
    for e in events:
        table.add_row(e["id"], e["name"], e.get("date") or "", e.get("place") or "", e.get("visibility", ""))
    return table


@events_app.command("create")
@command
def events_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The event's name.")],
    date: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    place: Annotated[str, typer.Option()] = "",
    visibility: Annotated[str, typer.Option(help="public or private")] = "public",
    as_json: JsonOpt = False,
) -> None:
    """Create an event (photographers)."""
    event = client(ctx).post(
        "photos", "/events", {"name": name, "date": date, "place": place, "visibility": visibility},
        headers={"Idempotency-Key": f"cli-{uuid.uuid4()}"},
    )
    if as_json:
        emit_json(event)
    else:
        out.print(f"created event {event['id']} ({event['name']}, {event.get('date')})")


@events_app.command("list")
@command
def events_list(
    ctx: typer.Context,
    mine: Annotated[bool, typer.Option("--mine", help="Only your own events.")] = False,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List the events you can see."""
    params = {"mine": "true"} if mine else None
    events = client(ctx).paged("photos", "/events", "events", limit=limit, params=params)
    if as_json:
        emit_json({"events": events})
    else:
        out.print(_events_table(events))


# ---- photos ----------------------------------------------------------------------------


@photos_app.command("list")
@command
def photos_list(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The event's id.")],
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    bib: Annotated[str | None, typer.Option(help="Only photos where this bib number was read.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List an event's photos (all pages), or with --bib those where a bib number was read."""
    params = {"bib": bib} if bib is not None else None
    photos = client(ctx).paged("photos", f"/events/{event_id}/photos", "photos", limit=limit, params=params)
    if as_json:
        emit_json({"photos": photos})
        return
    table = _table("id", "status", "price", "size", "note")
    for p in photos:
        price = p.get("price") or {}
        size = f"{p['width']}x{p['height']}" if p.get("width") else ""
        found = p.get("bib")
        note = (f"bib {found['number']} ({found['confidence']:.2f})" if found
                else p.get("failure_reason") or "")
        table.add_row(p["id"], p.get("status", ""), money.show(price.get("minor"), price.get("currency")),
                      size, note)
    out.print(table)
    out.print(f"{len(photos)} photos")


@photos_app.command("price")
@command
def photos_price(
    ctx: typer.Context,
    photo_ids: Annotated[list[str], typer.Argument(help="Photo ids.")],
    amount: Annotated[str, typer.Option(help="e.g. 4.50")],
    currency: Annotated[str | None, typer.Option(help="EUR, USD, GBP or CHF")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Set the price of your photos."""
    api = client(ctx)
    minor, cur = _amount(api, amount, currency, as_json)
    updated = [api.patch("photos", f"/photos/{pid}", {"price_minor": minor, "currency": cur})
               for pid in photo_ids]
    if as_json:
        emit_json({"photos": updated})
    else:
        out.print(f"{len(updated)} photo(s) priced at {money.show(minor, cur)}")


# ---- uploads ---------------------------------------------------------------------------


OUTCOME_STYLE = {"failed": "red", "skipped": "dim", "duplicate": "dim", "resumed": "yellow"}


def _upload_table(results: list[FileResult]) -> Table:
    table = _table("file", "outcome", "photo", "parts sent", "note")
    for r in results:
        style = OUTCOME_STYLE.get(r.outcome, "")
        note = (r.error or {}).get("message", "")
        table.add_row(Path(r.path).name, f"[{style}]{r.outcome}[/]" if style else r.outcome,
                      r.photo_id or "", str(r.parts_sent), note)
    return table


@app.command()
@command
def upload(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The event to upload into.")],
    paths: Annotated[list[Path], typer.Argument(help="Image files and/or folders.")],
    workers: Annotated[int | None, typer.Option(min=1, max=32, help="Parallel uploads.")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until every photo is processed.")
                    ] = True,
    wait_timeout: Annotated[float, typer.Option(help="Seconds to wait for processing.")] = 900.0,
    as_json: JsonOpt = False,
) -> None:
    """Upload photos (resumable; files already uploaded are skipped by content hash)."""
    api = client(ctx)
    try:
        files = collect_files(paths)
    except FileNotFoundError as exc:
        raise _usage(str(exc), as_json) from None
    if not files:
        raise _usage("no JPEG, PNG or WebP files found", as_json)
    api.access_token()  # fail before any work when not signed in
    journal = Journal(event_id)
    uploader = Uploader(api, event_id, journal, workers=workers or api.settings.upload_workers)
    started = time.monotonic()
    if as_json:
        results = uploader.run(files)
    else:
        from photostack_cli.progress import RichUploadProgress

        total = sum(p.stat().st_size for p in files)
        with RichUploadProgress(err, len(files), total) as bars:
            uploader.progress = bars
            results = uploader.run(files)
        out.print(_upload_table(results))
    upload_s = time.monotonic() - started
    counts = {o: sum(1 for r in results if r.outcome == o)
              for o in ("uploaded", "resumed", "skipped", "duplicate", "failed")}
    report: dict[str, Any] = {"event_id": event_id, "files": [r.as_json() for r in results],
                              "counts": counts, "upload_s": round(upload_s, 3)}
    if not as_json:
        out.print(", ".join(f"{n} {o}" for o, n in counts.items() if n) + f" in {upload_s:.1f}s")

    photo_ids = {r.photo_id for r in results if r.photo_id and r.outcome != "failed"}
    failed_processing = 0
    if wait and photo_ids:
        photos = _wait(api, event_id, photo_ids, wait_timeout, as_json)
        summary = summarize(photos, photo_ids)
        failed_processing = summary["failed"] + summary["pending"]
        report["processing"] = {
            **summary,
            "wall_s": round(time.monotonic() - started, 3),
            "failed_photos": [{"id": p["id"], "failure_reason": p.get("failure_reason")}
                              for p in photos.values() if p.get("status") == "failed"],
        }
    if as_json:
        emit_json(report)
    if counts["failed"] or failed_processing:
        raise typer.Exit(EXIT_REFUSED)


def _wait(api: Client, event_id: str, photo_ids: set[str], timeout_s: float,
          as_json: bool) -> dict[str, dict[str, Any]]:
    if as_json:
        return wait_for_processing(api, event_id, photo_ids, timeout_s=timeout_s)
    with err.status("waiting for processing...") as status:
        def show(counts: dict[str, int]) -> None:
            status.update(f"processing: {counts['ready']} ready, {counts['failed']} failed, "
                          f"{counts['pending']} pending")

        photos = wait_for_processing(api, event_id, photo_ids, timeout_s=timeout_s, on_update=show)
    counts = summarize(photos, photo_ids)
    out.print(f"processing: [green]{counts['ready']} ready[/], [red]{counts['failed']} failed[/], "
              f"{counts['pending']} still pending")
    for p in photos.values():
        if p.get("status") == "failed":
            out.print(f"  [red]failed[/] {p['id']}: {p.get('failure_reason') or 'no reason given'}")
    if counts["pending"]:
        out.print(f"  {counts['pending']} photo(s) still pending after {timeout_s:.0f}s; "
                  "check later with `photostack photos list`")
    return photos


# ---- wallet, orders, downloads ---------------------------------------------------------


@wallet_app.command("topup")
@command
def wallet_topup(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="e.g. 20 or 12.50")],
    currency: Annotated[str | None, typer.Option(help="EUR, USD, GBP or CHF")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Top up through the simulated payment provider (it confirms with a signed webhook)."""
    api = client(ctx)
    minor, cur = _amount(api, amount, currency, as_json)
    secret = config.webhook_secret(api.settings)  # before the payment, so a missing one leaves none pending
    payment = api.post("transactions", "/wallet/topups", {"amount_minor": minor, "currency": cur},
                       headers={"Idempotency-Key": f"cli-{uuid.uuid4()}"})
    body, headers = signed_payment_webhook(secret, payment["payment_id"],
                                           event_id=f"evt_cli_{secrets.token_hex(12)}")
    confirmation = api.request("transactions", "POST", "/webhooks/payments", json_body=None,
                               headers=headers, auth=False, raw_body=body)
    wallets = api.get("transactions", "/wallet")
    if as_json:
        emit_json({"payment": payment, "confirmation": confirmation, **wallets})
    else:
        balance: dict[str, Any] = next((w for w in wallets.get("wallets", []) if w["currency"] == cur), {})
        shown = money.show(balance.get("balance_minor"), cur)
        out.print(f"topped up {money.show(minor, cur)}; balance {shown}")


@wallet_app.command("show")
@command
def wallet_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show your wallet balances."""
    wallets = client(ctx).get("transactions", "/wallet")
    if as_json:
        emit_json(wallets)
        return
    if not wallets.get("wallets"):
        out.print("no wallet yet: top up with `photostack wallet topup 20`")
    for w in wallets.get("wallets", []):
        out.print(money.show(w["balance_minor"], w["currency"]))


@app.command()
@command
def buy(
    ctx: typer.Context,
    photo_ids: Annotated[list[str], typer.Argument(help="Photo ids.")],
    idempotency_key: Annotated[str | None, typer.Option(
        help="Reuse a key to retry a purchase safely (default: a new one per run).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Buy photos with your wallet."""
    key = idempotency_key or f"cli-{uuid.uuid4()}"
    order = client(ctx).post("transactions", "/orders", {"photo_ids": photo_ids},
                             headers={"Idempotency-Key": key})
    if as_json:
        emit_json({**order, "idempotency_key": key})
    else:
        out.print(f"order {order['order_id']} {order['status']}: {len(order.get('items', []))} photo(s), "
                  f"{money.show(order.get('total_minor'), order.get('currency'))}")


EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


@app.command()
@command
def download(
    ctx: typer.Context,
    photo_id: Annotated[str, typer.Argument(help="A photo you bought (or your own).")],
    directory: Annotated[Path, typer.Argument(help="Where to save it.")] = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Download a photo's original."""
    api = client(ctx)
    grant = api.get("transactions", f"/purchases/{photo_id}/download")
    response = api.transfer("GET", grant["url"], stream=True)
    kind = response.headers.get("Content-Type", "").split(";")[0].strip()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{photo_id}{EXTENSIONS.get(kind, '')}"
    partial = target.with_name(target.name + ".part")
    size = 0
    with partial.open("wb") as f:
        for chunk in response.iter_content(256 * 1024):
            f.write(chunk)
            size += len(chunk)
    partial.replace(target)
    if as_json:
        emit_json({"photo_id": photo_id, "path": str(target), "bytes": size, "content_type": kind})
    else:
        out.print(f"saved {target} ({size} bytes)")


# ---- settings --------------------------------------------------------------------------


@admin_app.command("redrive")
@command
def admin_redrive(
    min_age: Annotated[float, typer.Option(
        help="Seconds an original must have waited before it is taken (0: every one).")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many dead letters and originals.")] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """Process again the upload dead-letter queue and originals that never became ready, send the
    face-index dead-letter queue back to its queue, and expire reservations whose bytes never came
    (failed, with the reason)."""
    report = admin.redrive(min_age_s=min_age, limit=limit)
    if as_json:
        emit_json(report)
        return
    outcomes = ", ".join(f"{n} {k}" for k, n in report.get("outcomes", {}).items()) or "nothing to do"
    r = report
    out.print(f"dead letters: {r.get('dead_letters', 0)} read, {r.get('dead_letters_done', 0)} done, "
              f"{r.get('dead_letters_kept', 0)} kept; face-index dead letters: "
              f"{r.get('index_redriven', 0)} sent back, {r.get('index_dropped', 0)} dropped, "
              f"{r.get('index_kept', 0)} kept, {r.get('index_parked', 0)} parked; originals looked at: "
              f"{r.get('originals_seen', 0)}; reservations expired: {r.get('reservations_expired', 0)}"
              f" of {r.get('reservations_idle', 0)} idle; {outcomes}")


@admin_app.command("check-storage")
@command
def admin_check_storage(
    dry_run: Annotated[bool, typer.Option(help="Report only; change nothing.")] = False,
    event: Annotated[str | None, typer.Option(help="Only the photos of this event (its id).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild ready photos whose derivatives are gone from S3; mark failed those whose original is."""
    report = admin.check_storage(dry_run=dry_run, event_id=event)
    if as_json:
        emit_json(report)
        return
    if dry_run:
        done = "nothing changed (dry run)"
    else:
        done = f"{len(report.get('rebuilt', []))} rebuilt, {report['marked_failed']} marked failed"
        if report.get("not_rebuilt"):
            done += f", {len(report['not_rebuilt'])} not rebuilt (an outage; run it again)"
    out.print(f"{report['checked']} ready photos checked, {report['missing']} with objects missing, {done}")
    for loss in report["losses"]:
        out.print(f"  {loss['photo_id']}: {loss['reason']}")


@config_app.command("show")
@command
def config_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the settings in effect (URLs, folders, signed-in account)."""
    settings = config.resolve(ctx.find_root().obj or {})
    creds = config.load_credentials()
    data = {
        "config_dir": str(config.config_dir()),
        "state_dir": str(config.state_dir()),
        "api_urls": settings.api_urls,
        "currency": settings.currency,
        "upload_workers": settings.upload_workers,
        "signed_in_as": creds.get("email"),
    }
    if as_json:
        emit_json(data)
    else:
        for k, v in data.items():
            out.print(f"{k}: {v}")


@config_app.command("set")
@command
def config_set(
    key: Annotated[str, typer.Argument(help=", ".join(config.CONFIG_KEYS))],
    value: Annotated[str, typer.Argument(help="The value ('' removes the key).")],
    as_json: JsonOpt = False,
) -> None:
    """Change a setting in config.json."""
    if key not in config.CONFIG_KEYS:
        raise _usage(f"unknown key {key!r}; known: {', '.join(config.CONFIG_KEYS)}", as_json)
    data = config.load_config()
    if value:
        data[key] = value
    else:
        data.pop(key, None)
    config.save_config(data)
    if as_json:
        emit_json(data)
    else:
        out.print(f"{key} = {value!r}" if value else f"{key} removed")


def run() -> None:
    app()
