"""``hub feeds``: the outside lists the hub pulls, and pulling one now."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import httpx
import redis.asyncio as aioredis
import typer

from connectors.celery_app import wake
from connectors.pull import STATE, FeedFetchError, feeds, pull
from graph.db import Store
from graph.exchange.feeds import FeedReport
from hub.cli.kit import err, fail, with_store
from hub.settings import Settings, catalogue
from policies.credit.feeds import CASE_DOCUMENTS

app = typer.Typer(
    help="Outside lists pulled on a schedule (policies/feeds.yaml).", no_args_is_help=True
)


@app.command("list")
def list_cmd() -> None:
    """Each feed, whether it is on, and what its last run did (JSON)."""

    async def work(store: Store, s: Settings) -> list[dict[str, Any]]:
        redis = aioredis.from_url(s.redis_url, decode_responses=True)
        try:
            out: list[dict[str, Any]] = []
            for feed in feeds().values():
                state = await redis.hgetall(STATE.format(code=feed.code))
                out.append(
                    {
                        "code": feed.code,
                        "name": feed.name,
                        "url": feed.url,
                        "listing": feed.listing,
                        "carries": feed.carries,
                        "enabled": feed.enabled,
                        "everySeconds": feed.every_seconds,
                        **{str(k): v for k, v in state.items()},
                    }
                )
            return out
        finally:
            await redis.aclose()

    typer.echo(json.dumps(with_store(work), ensure_ascii=False, indent=1))


@app.command("pull")
def pull_cmd(code: Annotated[str, typer.Argument(help="The feed's code.")]) -> None:
    """Fetch and apply one feed now (enabled or not), and print what changed."""
    feed = feeds().get(code)
    if feed is None:
        raise fail(f"no feed {code}; `hub feeds list` shows them")

    async def work(store: Store, s: Settings) -> FeedReport:
        redis = aioredis.from_url(s.redis_url)
        try:
            async with httpx.AsyncClient() as http:
                return await pull(store, redis, http, catalogue(), feed, date.today())
        finally:
            await redis.aclose()

    try:
        report = with_store(work)
    except FeedFetchError as exc:
        raise fail(f"{exc}; nothing was applied") from None
    for subject, partners in report.events:
        wake(partners, subject)
    for r in report.rejected:
        typer.echo(
            json.dumps(
                {"line": r.line, "reason": r.reason, "message": r.message}, ensure_ascii=False
            )
        )
    done = (
        f"{report.attached} attached, {report.unchanged} unchanged, {report.queued} queued"
        if feed.carries == CASE_DOCUMENTS
        else f"{report.listed} listed, {report.modified} modified, "
        f"{report.unchanged} unchanged, {report.ended} ended"
    )
    err.print(
        f"{code}: {report.rows} rows; {done}, {len(report.rejected)} rejected"
        + (f" ({report.note})" if report.note else "")
    )
