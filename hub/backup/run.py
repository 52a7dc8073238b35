"""``hub backup`` and ``hub restore``: the graph read while writes are paused, the kept Redis
state beside it, and a restore into an empty store checked against the backup's manifest."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from connectors import kept_state
from connectors.coordination.maintenance import PAUSE_TTL_MS, pause_lock
from graph import audit_chain
from graph.backup import dump, load
from graph.backup.values import decode_props
from graph.db import Store, connect
from graph.migrations import MIGRATIONS, migrate
from hub.backup.file import BadBackup, Tally, Writer, check_file, lines
from hub.settings import Settings

ATTEMPTS = 3  # reads of the graph before a backup gives up on a graph that will not hold still
SETTLE = 1.0  # seconds without a commit after which writes in flight are taken to be done
SETTLE_MAX = 30.0  # seconds to wait for that before reading anyway (and checking after)
CHECK_EVERY = 10_000  # lines of the graph between two looks for a commit (and progress)
INDEX_WAIT = 3600  # seconds a restore waits for the indexes of a large graph to populate

Say = Callable[[str], None]
Progress = Callable[[str, int, int], None]  # phase, done, total


class BackupError(RuntimeError):
    """The backup or restore did not happen; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Stores:
    """A store without write gate or cache generation (the backup holds the pause itself)
    and a Redis client, on the hub's settings."""

    store: Store
    redis: aioredis.Redis


@asynccontextmanager
async def _stores(settings: Settings) -> AsyncIterator[Stores]:
    config = settings.neo4j
    store = Store(connect(config), config.database, config.query_timeout)
    redis = aioredis.from_url(settings.redis_url, socket_timeout=30, socket_connect_timeout=2)
    try:
        yield Stores(store, redis)
    finally:
        await store.driver.close()
        await redis.aclose()


@asynccontextmanager
async def _writes_paused(redis: aioredis.Redis, say: Say) -> AsyncIterator[None]:
    """Hold the write pause (connectors/coordination/maintenance.py) for the block, renewed
    meanwhile."""
    lock = pause_lock(redis)
    if not await lock.acquire():
        raise BackupError(
            "writes are already paused by another `hub backup` or `hub restore`: wait for it "
            f"to finish (a dead one's pause lapses within {PAUSE_TTL_MS // 1000} s)"
        )
    say("writes paused (reads go on)")

    async def renew() -> None:
        while True:
            await asyncio.sleep(PAUSE_TTL_MS / 3000)
            await lock.renew()

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        await lock.release()
        say("writes resumed")


async def _settle(store: Store) -> None:
    """Wait until no transaction has committed for ``SETTLE`` seconds (writes that passed
    their gate before the pause finish), or ``SETTLE_MAX`` seconds have passed."""
    deadline = time.monotonic() + SETTLE_MAX
    marker = await dump.commit_marker(store)
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE)
        now = await dump.commit_marker(store)
        if now == marker:
            return
        marker = now


class _Changed(Exception):
    """The graph committed a transaction while the backup read it."""


async def _unchanged(store: Store, before: list[str]) -> None:
    if await dump.commit_marker(store) != before:
        raise _Changed


async def _read_graph(store: Store, out: Writer, progress: Progress, before: list[str]) -> None:
    """Every node, then every relationship, to ``out``. Every ``CHECK_EVERY`` lines the last
    commit is compared with ``before``: an attempt that cannot be consistent stops there, not
    after reading the whole graph."""
    nodes, rels = await dump.totals(store)
    parts = (
        ("nodes", nodes, dump.nodes(store)),
        ("relationships", rels, dump.relationships(store)),
    )
    for kind, total, rows in parts:
        async with contextlib.aclosing(rows):  # a stopped read closes its session now
            async for line in rows:
                out.line(line)
                done = getattr(out.tally, kind)
                if done % CHECK_EVERY == 0:
                    progress(kind, done, total)
                    await _unchanged(store, before)
        progress(kind, getattr(out.tally, kind), total)
    await _unchanged(store, before)


async def _chain_states(store: Store) -> dict[str, int]:
    """Each audit chain's state as backed up: 0 intact, else the seq where it is broken. A
    restore must give back the same states: a chain broken before the backup (tampering it
    recorded) stays broken, and must not read as a restore gone wrong."""
    return {
        chain: _broken_at(await audit_chain.verify_chain(store, chain=chain))
        for chain in await dump.audit_chains(store)
    }


def _broken_at(result: audit_chain.VerifyResult) -> int:
    """A chain's state: 0 intact, else the seq where it is broken."""
    return 0 if result.ok else int(result.first_bad_seq or 0)


async def _backup(stores: Stores, path: Path, say: Say, progress: Progress) -> Tally:
    store, redis = stores.store, stores.redis
    for attempt in range(1, ATTEMPTS + 1):
        await _settle(store)
        before = await dump.commit_marker(store)
        out = Writer(path)
        try:
            schema = await dump.schema(store)
            out.header(
                {
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "schema": schema.as_dict(),
                    "generation": await kept_state.generation(redis),
                    "chains": await _chain_states(store),
                }
            )
            await _read_graph(store, out, progress, before)
            # Read after the graph: entries drained meanwhile are in both, and the drain
            # skips an entry already chained (connectors/audit_drain.py).
            async for line in kept_state.read_state(redis):
                out.line(line)
            out.commit()
            return out.tally
        except _Changed:
            say(f"the graph changed while it was read (attempt {attempt} of {ATTEMPTS})")
            out.discard()
        except BaseException:
            out.discard()
            raise
    raise BackupError(
        "the graph kept changing while writes were paused: a process writes without honouring "
        "the pause (an older hub release, or a tool with its own Neo4j driver); stop it and "
        "run `hub backup` again"
    )


def backup(settings: Settings, path: Path, say: Say, progress: Progress) -> Tally:
    """Write a consistent backup of the graph and the kept Redis state to ``path``."""

    async def run() -> Tally:
        async with _stores(settings) as stores, _writes_paused(stores.redis, say):
            return await _backup(stores, path, say, progress)

    return asyncio.run(run())


def _schema_of(header: dict[str, Any], path: Path) -> dump.Schema:
    try:
        schema = dump.Schema(**header["schema"])
        known = {m.version for m in MIGRATIONS}
        versions = [int(v) for v in schema.migrations]
    except (KeyError, TypeError, ValueError):
        raise BadBackup(f"{path}: its header does not say which schema it has") from None
    if not set(versions) <= known:
        raise BadBackup(
            f"{path} has schema version {max(versions)}, newer than this hub's "
            f"{max(known)}: restore it with the release that made it"
        )
    return schema


async def _load(stores: Stores, path: Path, tally: Tally, progress: Progress) -> None:
    store, batch, done = stores.store, list[dict[str, Any]](), Tally()
    kinds = (("node", load.write_nodes), ("rel", load.write_relationships))

    async def flush(kind: str) -> None:
        if not batch:
            return
        if kind == "redis":
            await kept_state.write_state(stores.redis, batch)
        else:
            await dict(kinds)[kind](store, batch)
            if kind == "node":
                progress("nodes", done.nodes, tally.nodes)
            else:
                progress("relationships", done.relationships, tally.relationships)
        batch.clear()

    kind = "node"
    for _, line in lines(path):
        now = next((k for k in ("node", "rel", "redis") if k in line), None)
        if now is None:
            continue  # the header and the manifest
        if now != kind or len(batch) >= load.NODE_BATCH:
            await flush(kind)
            kind = now
        done.add(line)
        if now == "node":
            batch.append({"id": line["node"], "labels": line["labels"],
                          "props": decode_props(line["props"])})  # fmt: skip
        elif now == "rel":
            batch.append({"type": line["rel"], "start": line["from"], "end": line["to"],
                          "props": decode_props(line["props"])})  # fmt: skip
        else:
            batch.append(line)
    await flush(kind)


async def _restore(
    stores: Stores, path: Path, force: bool, say: Say, progress: Progress
) -> list[str]:
    header, tally = check_file(path)
    schema = _schema_of(header, path)
    store, redis = stores.store, stores.redis
    nodes, keys = await load.node_count(store), await kept_state.kept_keys(redis)
    if (nodes or keys) and not force:
        raise BackupError(
            f"the store is not empty ({nodes} nodes in Neo4j, {len(keys)} kept keys in Redis): "
            "restore into an empty Neo4j and Redis, or pass --force to replace what they hold"
        )
    async with _writes_paused(redis, say):
        if force:
            say(f"--force: deleting {nodes} nodes, the schema and {len(keys)} kept Redis keys")
            await load.wipe(store)
            await kept_state.clear(redis)
        await load.prepare(store)
        try:
            await _load(stores, path, tally, progress)
            await load.finish(store, say)
            version = max(schema.migrations, default=0)
            say(f"schema: migrations up to version {version}")
            await migrate(store, upto=version, wait=INDEX_WAIT)
        except Exception as exc:
            raise BackupError(
                f"the restore stopped ({exc}); the store holds part of the backup: run "
                f"`hub restore --force {path}` again"
            ) from exc
        generation = await kept_state.move_generation_on(redis, header.get("generation", 0))
        say(f"cache generation moved on to {generation}")
    return await _checks(stores, schema, tally, header.get("chains", {}))


async def _checks(
    stores: Stores, schema: dump.Schema, tally: Tally, chains: dict[str, int]
) -> list[str]:
    """Compare the restored store with the backup's manifest; a list of what was checked.
    :class:`BackupError` names every difference."""
    store, done, wrong = stores.store, [], []
    restored = Tally(
        labels=Counter(await dump.label_counts(store)),
        types=Counter(await dump.type_counts(store)),
    )
    for what, have, want in (
        ("nodes per label", restored.labels, tally.labels),
        ("relationships per type", restored.types, tally.types),
    ):
        if have != want:
            diff = {k: (want[k], have[k]) for k in set(have) | set(want) if have[k] != want[k]}
            wrong.append(f"{what} differ (backup, restored): {diff}")
        done.append(f"{what}: {len(want)} kinds, {sum(want.values())} in all, as backed up")
    now = await dump.schema(store)
    if now != schema:
        wrong.append(f"schema differs: backed up {schema.as_dict()}, restored {now.as_dict()}")
    done.append(
        f"schema at migration {max(schema.migrations, default=0)}, "
        f"{len(schema.indexes)} indexes and {len(schema.constraints)} constraints, as backed up"
    )
    for chain in await dump.audit_chains(store):
        result = await audit_chain.verify_chain(store, chain=chain)
        broken, was = _broken_at(result), chains.get(chain, 0)
        if broken != was:
            wrong.append(
                f"audit chain {chain!r} broken at seq {broken} (backed up: {was or 'intact'})"
            )
        elif broken:
            done.append(f"audit chain {chain!r}: broken at seq {broken}, as it was backed up")
        else:
            done.append(f"audit chain {chain!r}: {result.checked} events verified from the first")
    keys = {key: n for key, n in tally.redis.items()}
    redis_now = Tally()
    async for line in kept_state.read_state(stores.redis):
        redis_now.add(line)
    if dict(redis_now.redis) != keys:
        wrong.append(f"kept Redis state differs: backed up {keys}, restored {redis_now.redis}")
    done.append(f"{sum(keys.values())} kept Redis entries in {len(keys)} keys, as backed up")
    if wrong:
        raise BackupError("the restored store does not match the backup: " + "; ".join(wrong))
    return done


def restore(settings: Settings, path: Path, force: bool, say: Say, progress: Progress) -> list[str]:
    """Restore a backup into an empty store (any store with ``force``) and check it."""

    async def run() -> list[str]:
        async with _stores(settings) as stores:
            return await _restore(stores, path, force, say, progress)

    return asyncio.run(run())
