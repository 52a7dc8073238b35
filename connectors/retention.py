"""The retention run: what outlived its period (policies/retention.yaml) is exported to gzipped
JSON Lines, one file per kind, and removed only once every file of the run is kept in the hub's
storage (``HUB_STORAGE``: the data folder, or the bucket every machine shares).

A run reads outbox events in feed order with their old deliveries, then finished imports with
their rejected rows, each row into its kind's file. Each file is written to a temporary file,
then put into storage whole, never over another (:func:`keep`); if any file fails, the run's
files are taken back and nothing is removed. Removal then goes in bounded batches, each
checking again that nothing needs the row (graph/retention.py). A run killed between keeping
and removing leaves rows that the next run exports again: files may overlap, never miss a row.
One run at a time (a Redis lock); a dry run only counts.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import redis.asyncio as aioredis

from connectors.coordination.locks import RedisLock
from connectors.storage.base import Storage
from graph.archive.imports import rejections
from graph.db import Store
from graph.retention import (
    Cutoffs,
    finished_imports,
    outbox_page,
    remove_deliveries,
    remove_events,
    remove_import,
)
from policies.retention import KINDS, Retention

LOCK_KEY = "hub:retention:lock"
LOCK_TTL_MS = 120_000  # renewed at every page and batch, so a dead run frees it within this


class LostLock(RuntimeError):
    """Another run may have started: this one stops before removing anything more."""


@dataclass(slots=True)
class Kind:
    rows: int = 0  # exported (or, in a dry run, that would be)
    removed: int = 0
    file: str | None = None  # its key in storage


@dataclass(slots=True)
class Report:
    dry_run: bool
    kinds: dict[str, Kind] = field(default_factory=lambda: {k: Kind() for k in KINDS})
    seconds: float = 0.0

    def counts(self) -> dict[str, dict[str, int]]:
        return {k: {"rows": v.rows, "removed": v.removed} for k, v in self.kinds.items()}


Progress = Callable[[str, Report], None]  # the step ("exporting outbox-events", …), the counts


class Export:
    """One kind's rows of one run, gzipped into a temporary file until it is kept."""

    def __init__(self, kind: str, run: datetime) -> None:
        self.kind = kind
        handle, name = tempfile.mkstemp(
            prefix=f"hub-{kind}-{run.strftime('%Y%m%dT%H%M%S%f')}-", suffix=".part"
        )
        self.temp = Path(name)
        self._raw: IO[bytes] = os.fdopen(handle, "wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
        self.first: datetime | None = None
        self.last: datetime | None = None

    def add(self, row: dict[str, Any], at: datetime) -> None:
        self._gz.write(json.dumps(row, ensure_ascii=False, sort_keys=True).encode() + b"\n")
        self.first = at if self.first is None or at < self.first else self.first
        self.last = at if self.last is None or at > self.last else self.last

    def close(self) -> None:
        """Finish the file and make its bytes durable."""
        if not self._gz.closed:
            self._gz.close()
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()

    def discard(self) -> None:
        self._gz.close()
        self._raw.close()
        self.temp.unlink(missing_ok=True)


def keep(storage: Storage, temp: Path, key: str) -> str:
    """Put a finished export into storage under ``key``, never over another: a put is whole or
    nothing (a file synced and renamed into place, or one object), so the key appears only with
    the whole file behind it."""
    if storage.exists(key):
        raise FileExistsError(f"{key} exists already: not overwritten")
    with temp.open("rb") as source:
        storage.put(key, source)
    temp.unlink(missing_ok=True)
    return key


def _moment(value: Any) -> datetime:
    """A row's time (ISO-8601 text or epoch seconds) as a UTC datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _delivery_time(d: dict[str, Any]) -> datetime:
    return _moment(d.get("lastAttemptAt") or d.get("requeuedAt") or d["createdAt"])


@dataclass(slots=True)
class _Run:
    store: Store
    rules: Retention
    storage: Storage
    cutoffs: Cutoffs
    report: Report
    exports: dict[str, Export] | None  # None: a dry run
    lock: RedisLock | None
    progress: Progress | None
    deliveries: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)

    async def step(self, what: str) -> None:
        if self.lock is not None and not await self.lock.renew():
            raise LostLock("the retention lock was lost; nothing more is removed in this run")
        if self.progress is not None:
            self.progress(what, self.report)

    def add(self, kind: str, row: dict[str, Any], at: datetime) -> None:
        self.report.kinds[kind].rows += 1
        if self.exports is not None:
            self.exports[kind].add(row, at)

    async def read_outbox(self) -> None:
        after, cap = -1, self.rules.max_rows
        while len(self.deliveries) < cap and len(self.events) < cap:
            page = await outbox_page(self.store, after, self.cutoffs, self.rules.batch)
            for row in page:
                for delivery in row.deliveries:
                    self.add("deliveries", delivery, _delivery_time(delivery))
                    self.deliveries.append(delivery["id"])
                if row.removable:
                    self.add("outbox-events", row.event, _moment(row.at))
                    self.events.append(row.event["id"])
            await self.step("reading the outbox")
            if len(page) < self.rules.batch:
                return
            after = page[-1].version

    async def read_imports(self) -> None:
        after, batch = "", self.rules.batch
        while len(self.imports) < self.rules.max_rows:
            page = await finished_imports(self.store, self.cutoffs.imports, after, batch)
            for report in page:
                at = _moment(report["finishedAt"])
                self.add("import-reports", report, at)
                self.imports.append(report["id"])
                line = 0
                while found := await rejections(self.store, report["id"], line, batch):
                    for x in found:
                        row = {"importId": report["id"], "line": x.line, "reason": x.reason}
                        self.add("import-rejections", row | {"message": x.message}, at)
                    line = found[-1].line
                    await self.step("reading import reports")
            await self.step("reading import reports")
            if len(page) < batch:
                return
            after = page[-1]["id"]

    def keep_all(self, run: datetime) -> None:
        """Every export kept, or none: a file that fails takes back those kept before it."""
        assert self.exports is not None
        kept: list[str] = []
        try:
            for kind, export in self.exports.items():
                export.close()
                if export.first is None or export.last is None:
                    export.discard()
                    continue
                name = self.rules.file_name(kind, export.first, export.last, run)
                kept.append(keep(self.storage, export.temp, f"{self.rules.directory}/{name}"))
                self.report.kinds[kind].file = kept[-1]
        except BaseException:
            for export in self.exports.values():
                export.discard()
            for key in kept:
                self.storage.delete(key)
            for counts in self.report.kinds.values():
                counts.file = None
            raise

    async def remove(self) -> None:
        batch, kinds = self.rules.batch, self.report.kinds
        for start in range(0, len(self.deliveries), batch):
            part = self.deliveries[start : start + batch]
            kinds["deliveries"].removed += await remove_deliveries(self.store, part)
            await self.step("removing deliveries")
        for start in range(0, len(self.events), batch):
            part = self.events[start : start + batch]
            kinds["outbox-events"].removed += await remove_events(self.store, part)
            await self.step("removing outbox events")
        for import_id in self.imports:
            kinds["import-rejections"].removed += await remove_import(self.store, import_id, batch)
            kinds["import-reports"].removed += 1
            await self.step("removing import reports")


async def run(
    store: Store,
    rules: Retention,
    storage: Storage,
    now: datetime,
    *,
    dry_run: bool = False,
    lock: RedisLock | None = None,
    progress: Progress | None = None,
) -> Report:
    """Export and remove what is older than its period at ``now``, the exports kept in
    ``storage``; with ``dry_run``, only count it."""
    started, report = time.monotonic(), Report(dry_run)
    exports = None if dry_run else {k: Export(k, now) for k in KINDS}
    work = _Run(
        store, rules, storage, Cutoffs.at(now, rules.periods), report, exports, lock, progress
    )
    try:
        await work.read_outbox()
        await work.read_imports()
    except BaseException:
        for export in (exports or {}).values():
            export.discard()
        raise
    if exports is not None:
        await asyncio.to_thread(work.keep_all, now)  # storage's calls block
        await work.remove()
    report.seconds = time.monotonic() - started
    return report


async def run_alone(
    redis: aioredis.Redis,
    store: Store,
    rules: Retention,
    storage: Storage,
    now: datetime,
    progress: Progress | None = None,
) -> Report | None:
    """:func:`run` under the Redis lock; None when another run holds it."""
    lock = RedisLock(redis, LOCK_KEY, LOCK_TTL_MS)
    if not await lock.acquire():
        return None
    try:
        return await run(store, rules, storage, now, lock=lock, progress=progress)
    finally:
        await lock.release()
