"""What the command-line modules share: a store for one command, and errors that say what to do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from redis.exceptions import ConnectionError as RedisConnectionError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from connectors.coordination.freshness import generation_bump_at
from connectors.coordination.maintenance import write_gate_at
from graph.db import Store, WritesPaused, connect
from hub.settings import Settings, get_settings

T = TypeVar("T")
err = Console(stderr=True, soft_wrap=True)  # log lines stay whole when captured
# The driver logs each retry it makes; a command says once, clearly, what went wrong.
logging.getLogger("neo4j").setLevel(logging.ERROR)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def store_for(settings: Settings) -> Store:
    """A store on a new driver (the caller closes ``store.driver``)."""
    config = settings.neo4j
    changed = generation_bump_at(settings.redis_url)
    gate = write_gate_at(settings.redis_url)
    return Store(connect(config), config.database, config.query_timeout, changed, gate)


def run_with_store(work: Callable[[Store, Settings], Awaitable[T]], settings: Settings) -> T:
    """Run ``work`` with a store opened for it and its driver closed afterwards."""

    async def run() -> T:
        store = store_for(settings)
        try:
            return await work(store, settings)
        finally:
            await store.driver.close()

    return asyncio.run(run())


def with_store(work: Callable[[Store, Settings], Awaitable[T]]) -> T:
    """Run ``work`` with a store whose driver is closed afterwards; an unreachable Neo4j is a
    clear error, not a traceback."""
    settings = get_settings()
    try:
        return run_with_store(work, settings)
    except (ServiceUnavailable, SessionExpired) as exc:
        raise fail(
            f"Neo4j at {settings.neo4j_uri} is not reachable ({exc.__class__.__name__}): "
            "start it with `make up`, or point HUB_NEO4J_URI at a running server"
        ) from None
    except WritesPaused as exc:
        raise fail(f"{exc}: run this command again when the backup has finished") from None
    except RedisConnectionError:
        raise fail(
            f"Redis at {settings.redis_url} is not reachable: start it with `make up`, or point "
            "HUB_REDIS_URL at a running server"
        ) from None


def progress_bar(label: str) -> Progress:
    """Progress on standard error: drawn on a terminal, else only when HUB_PROGRESS=1."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal and not get_settings().progress,
    )
