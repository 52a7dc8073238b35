"""``hub partners``: the partners registry and delivery state, for operators."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Annotated, Any

import typer

from connectors.onboarding import onboard, rotate
from graph.db import Store
from graph.exchange.outbox import deliveries, delivery_counts, replay
from graph.exchange.partners import (
    Keys,
    Partner,
    PartnerError,
    all_partners,
    find,
    update_partner,
)
from hub.cli.kit import err, fail, with_store
from hub.settings import Settings, catalogue

app = typer.Typer(
    help="Partners that receive sanctions, and their deliveries.", no_args_is_help=True
)


def _show(partner: Partner, counts: dict[str, int]) -> dict[str, Any]:
    shown = {
        "code": partner.code,
        "name": partner.name,
        "kind": partner.kind,
        "endpoint": partner.endpoint,
        "events": list(partner.events),
        "clearance": partner.clearance,
        "scheme": partner.scheme,
        "status": partner.status,
        "deliveries": counts,
    }
    if partner.association is not None:
        shown["association"] = partner.association
    if partner.scheme == "ED25519":
        shown["publicKey"] = partner.verifying_key
    return shown


def _run(work: Any) -> Any:
    try:
        return with_store(work)
    except PartnerError as exc:
        raise fail(f"{exc} ({exc.reason})") from None


@app.command("add")
def add_cmd(
    code: Annotated[str, typer.Argument(help="The partner's agency code (its tokens' claim).")],
    name: Annotated[str, typer.Option(help="Its name.")],
    kind: Annotated[str, typer.Option(help="PROCUREMENT, BIDDING, BANK, LAND_MINING, …")],
    event: Annotated[list[str], typer.Option("--event", help="Subscribe to (repeat).")],
    endpoint: Annotated[str | None, typer.Option(help="Its webhook URL; none: it polls.")] = None,
    clearance: Annotated[str, typer.Option(help="PUBLIC, SHARED or RESTRICTED.")] = "SHARED",
    scheme: Annotated[str, typer.Option(help="HMAC_SHA256 or ED25519.")] = "HMAC_SHA256",
    association: Annotated[
        str | None, typer.Option(help="With --kind ASSOCIATION: its code (associations.yaml).")
    ] = None,
) -> None:
    """Register a partner and print the key it verifies with (shown this once)."""
    fields = {
        "code": code,
        "name": name,
        "kind": kind,
        "events": event,
        "endpoint": endpoint,
        "clearance": clearance,
        "association": association,
    }

    async def work(store: Store, s: Settings) -> tuple[Partner, Keys]:
        return await onboard(store, catalogue(), fields, scheme, s.webhook_targets)

    _, keys = _run(work)
    typer.echo(keys.verifying)
    err.print(f"registered {code}; give it the key above (it is not shown again)")


@app.command("list")
def list_cmd() -> None:
    """Every partner, with its deliveries by state (JSON)."""

    async def work(store: Store, s: Settings) -> list[dict[str, Any]]:
        found = await all_partners(store)
        return [_show(p, await delivery_counts(store, p.code)) for p in found]

    typer.echo(json.dumps(with_store(work), ensure_ascii=False, indent=1))


@app.command("set")
def set_cmd(
    code: Annotated[str, typer.Argument()],
    status: Annotated[str | None, typer.Option(help="ACTIVE, PAUSED or DISABLED.")] = None,
    endpoint: Annotated[str | None, typer.Option()] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help="Replaces the list.")] = None,
    clearance: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Change a partner; PAUSED holds its deliveries, ACTIVE resumes them."""
    fields = {
        k: v
        for k, v in {
            "status": status,
            "endpoint": endpoint,
            "events": event,
            "clearance": clearance,
            "name": name,
        }.items()
        if v is not None
    }
    if not fields:
        raise fail("nothing to change: give --status, --endpoint, --event, --clearance or --name")

    async def work(store: Store, s: Settings) -> Partner | None:
        return await update_partner(store, catalogue(), code, fields, s.webhook_targets)

    if _run(work) is None:
        raise fail(f"no partner {code}")
    err.print(f"{code} changed")


@app.command("rotate")
def rotate_cmd(
    code: Annotated[str, typer.Argument()],
    scheme: Annotated[str | None, typer.Option(help="Switch to HMAC_SHA256 or ED25519.")] = None,
) -> None:
    """New signing keys (the old ones stop at once); prints the new verifying key once."""

    async def work(store: Store, s: Settings) -> tuple[Partner, Keys] | None:
        return await rotate(store, code, scheme)

    rotated = _run(work)
    if rotated is None:
        raise fail(f"no partner {code}")
    typer.echo(rotated[1].verifying)


@app.command("replay")
def replay_cmd(
    code: Annotated[str, typer.Argument()],
    since: Annotated[
        str, typer.Option(help="ISO date-time with zone, e.g. 2026-11-01T00:00+08:00")
    ],
) -> None:
    """Send the partner every event since then again, in order."""
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise fail("--since is an ISO date-time, e.g. 2026-11-01T00:00+08:00") from None
    if moment.tzinfo is None:
        raise fail("--since needs a time zone, e.g. 2026-11-01T00:00+08:00")

    async def work(store: Store, s: Settings) -> int | None:
        if await find(store, code) is None:
            return None
        return await replay(store, code, moment, time.time())

    queued = with_store(work)
    if queued is None:
        raise fail(f"no partner {code}")
    err.print(f"{queued} deliveries queued for {code}; workers send them in order")


@app.command("deliveries")
def deliveries_cmd(
    code: Annotated[str, typer.Argument()],
    status: Annotated[str | None, typer.Option(help="PENDING, DELIVERED or DEAD.")] = None,
    first: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """A partner's latest deliveries as JSON Lines (DEAD: the dead-letter set, with reasons)."""

    async def work(store: Store, s: Settings) -> list[dict[str, Any]]:
        return await deliveries(store, code, status, 2**62, first)

    for row in with_store(work):
        typer.echo(json.dumps(row, ensure_ascii=False, default=str))
