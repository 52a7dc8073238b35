"""``hub audit`` and ``hub retention``: the audit chain verified, drained and read, and what
the hub lets go after its period (exported first), run by hand."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import redis.asyncio as aioredis
import typer
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from redis.exceptions import ConnectionError as RedisConnectionError

from connectors import retention
from connectors.audit_drain import drain_stream
from connectors.storage.config import open_storage
from graph import audit_chain
from graph.audit_chain import VerifyResult
from graph.audit_checkpoints import (
    Checkpoint,
    ForgedCheckpoint,
    latest_checkpoint,
    record_checkpoint,
)
from graph.db import Store, WritesPaused
from hub.cli.kit import err, progress_bar, run_with_store
from hub.keys import audit_checkpoint_secret
from hub.settings import Settings, get_settings
from policies.loader import PolicyError
from policies.retention import load_retention

app = typer.Typer(help="The audit chain: verify, drain, trail.", no_args_is_help=True)
retention_app = typer.Typer(
    help="Outbox events, deliveries and import reports past their period (policies/"
    "retention.yaml): exported, then removed.",
    no_args_is_help=True,
)
T = TypeVar("T")
UNREACHABLE = 2  # exit status when the chain could not be checked (1 means broken)
PAGE = 1000

Chain = Annotated[str, typer.Option(help="Which chain (tests use their own).")]


def _run(work: Callable[[Store, Settings], Awaitable[T]]) -> T:
    """Run ``work`` with a store; an unreachable Neo4j or Redis exits 2, not 1 ("broken")."""
    try:
        return run_with_store(work, get_settings())
    except (ServiceUnavailable, SessionExpired, RedisConnectionError) as exc:
        typer.echo(f"error: a backing service is unreachable ({exc.__class__.__name__})", err=True)
        raise typer.Exit(UNREACHABLE) from None
    except WritesPaused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(UNREACHABLE) from None


def _anchor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise typer.BadParameter("expected SEQ:HASH as printed by an earlier verify")
    return int(seq), digest


@app.command()
def verify(
    chain: Chain = audit_chain.DEFAULT_CHAIN,
    anchor: Annotated[
        str | None, typer.Option(help="SEQ:HASH from an earlier run, which must still hold.")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="From the first event, not the latest checkpoint.")
    ] = False,
) -> None:
    """Recompute the links since the latest signed checkpoint (all of them with ``--full``),
    then record a new one: exit 0 if intact, 1 if broken, 2 if Neo4j is unreachable.

    Keep the printed anchor outside the hub and pass it to later runs: they then also catch a
    chain rewritten with recomputed hashes (see docs/decisions.md).
    """
    expected = _anchor(anchor)

    async def work(store: Store, settings: Settings) -> tuple[VerifyResult, Checkpoint | None]:
        secret = audit_checkpoint_secret(settings.keys_dir)
        try:
            start = None if full else await latest_checkpoint(store, secret, chain)
        except ForgedCheckpoint as exc:
            return VerifyResult(False, 0, None, str(exc)), None
        if expected and start and start.seq >= expected[0]:
            start = None  # the anchor lies behind the checkpoint: check it on the way
        begin = (start.seq, start.hash) if start else (0, audit_chain.GENESIS)
        result = await audit_chain.verify_chain(store, chain=chain, anchor=expected, start=begin)
        if result.ok and result.checked > begin[0]:
            await record_checkpoint(
                store, secret, chain, Checkpoint(result.checked, result.head_hash)
            )
        return result, start

    result, start = _run(work)
    if not result.ok:
        typer.echo(f"broken at seq {result.first_bad_seq}: {result.reason}")
        raise typer.Exit(1)
    since = f", checked from the checkpoint at seq {start.seq}" if start else ""
    typer.echo(f"chain intact: {result.checked} events{since}")
    typer.echo(f"anchor: {result.checked}:{result.head_hash}")


@app.command()
def drain() -> None:
    """Move every waiting entry from the Redis stream into the chain now."""

    async def work(store: Store, settings: Settings) -> int | None:
        client = aioredis.from_url(settings.redis_url, socket_timeout=10)
        try:
            return await drain_stream(client, store, budget=math.inf)
        finally:
            await client.aclose()

    moved = _run(work)
    typer.echo("another drainer is running" if moved is None else f"drained {moved} entries")


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO-8601 time: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def trail(
    subject: Annotated[str | None, typer.Option(help="A credit code.")] = None,
    agency: Annotated[str | None, typer.Option(help="An agency code.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO-8601, inclusive; no offset = UTC.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO-8601, exclusive; no offset = UTC.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many events.")] = 100,
    after: Annotated[int, typer.Option(min=0, help="Only events after this seq.")] = 0,
    chain: Chain = audit_chain.DEFAULT_CHAIN,
) -> None:
    """Print the events about a subject or by an agency, one JSON object a line, in order."""
    if subject is None and agency is None:
        raise typer.BadParameter("give --subject or --agency (or both)")
    start, end = _moment(since), _moment(until)

    async def work(store: Store, settings: Settings) -> None:
        last, left = after, limit
        while left > 0:
            page = await audit_chain.trail(
                store,
                subject=subject,
                agency=agency,
                since=start,
                until=end,
                after_seq=last,
                limit=min(left, PAGE),
                chain=chain,
            )
            for event in page:
                typer.echo(json.dumps(event.props(), ensure_ascii=False))
            if len(page) < min(left, PAGE):
                return
            last, left = page[-1].seq, left - len(page)

    _run(work)


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be exported and removed.")
    ] = False,
) -> None:
    """Export what outlived its period to gzipped JSON Lines under HUB_DATA_DIR, then remove
    it: exit 0 when done, 1 when another run holds the lock, 2 when a store is unreachable."""
    settings = get_settings()
    try:
        rules = load_retention(settings.retention_file)
    except PolicyError as exc:
        typer.echo(f"error: {exc}: fix the file and run again", err=True)
        raise typer.Exit(1) from None
    now = datetime.now(UTC)

    async def work(store: Store, settings: Settings) -> retention.Report | None:
        with progress_bar("retention") as bar:
            task = bar.add_task("retention", total=None, note="")

            def show(step: str, report: retention.Report) -> None:
                kinds = report.kinds.values()
                done = sum(k.removed if "removing" in step else k.rows for k in kinds)
                bar.update(task, completed=done, note=step)

            if dry_run:
                return await retention.run(
                    store,
                    rules,
                    open_storage(settings.storage_config),
                    now,
                    dry_run=True,
                    progress=show,
                )
            client = aioredis.from_url(settings.redis_url, socket_timeout=10)
            try:
                return await retention.run_alone(
                    client, store, rules, open_storage(settings.storage_config), now, progress=show
                )
            finally:
                await client.aclose()

    report = _run(work)
    if report is None:
        typer.echo("another retention run holds the lock; try again when it has finished", err=True)
        raise typer.Exit(1)
    verb = "would export" if report.dry_run else "exported"
    for kind, counts in report.kinds.items():
        line = f"{kind}: {verb} {counts.rows}"
        if not report.dry_run:
            line += f", removed {counts.removed}"
        if counts.file is not None:
            line += f" -> {counts.file}"
        typer.echo(line)
    err.print(f"in {report.seconds:.1f} s")
