"""Celery tasks."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import httpx
import redis
import structlog
from celery.signals import worker_process_shutdown
from neo4j.exceptions import ServiceUnavailable, SessionExpired

from connectors import audit_drain, worker
from connectors.celery_app import HEARTBEAT_KEY, app, wake
from connectors.config import configured
from connectors.coordination.locks import LockLost, RedisLock
from connectors.delivery import lane_lock, run_lane
from connectors.pull import FeedFetchError, feeds_due, pull
from connectors.reclaim import kept_alive, lapsed
from connectors.retention import run_alone
from connectors.storage.base import BadKey, MissingObject, Storage, StorageUnavailable
from connectors.storage.config import open_storage
from graph.archive.files import ArchiveFormatError
from graph.archive.imports import fail_import, find_import, run_import
from graph.archive.xlsx_guard import DEFAULT_LIMITS, XlsxLimits
from graph.cases.reminders import remind
from graph.exchange.feedback import reconcile
from graph.exchange.outbox import due, lanes_due
from graph.exchange.partners import all_partners
from graph.records.determination import expire_listings
from graph.records.review import expire
from graph.rights.complaint_handling import escalate_overdue
from policies.cases import default_cases
from policies.credit.measures import Catalogue, load_measures
from policies.retention import Retention, load_retention
from policies.rights import default_rights

log = structlog.get_logger("connectors.tasks")


@worker_process_shutdown.connect
def _close_clients(**_: Any) -> None:
    """A worker process closes its Neo4j, Redis and partner connections on the way out."""
    worker.close_worker_clients()


def catalogue() -> Catalogue:
    """The catalogue this process was configured with (``HUB_MEASURES_FILE``)."""
    return read_catalogue(configured().measures_file)


@cache
def read_catalogue(path: Path) -> Catalogue:
    """The measures file at ``path``, validated once."""
    return load_measures(path)


@app.task(name="connectors.tasks.heartbeat")
def heartbeat() -> float:
    """Beat → worker round trip, so `hub status` can tell that both are alive."""
    now = time.time()
    redis.Redis.from_url(configured().redis_url).set(HEARTBEAT_KEY, now, ex=120)
    return now


@app.task(name="connectors.tasks.drain_audit")
def drain_audit() -> int | None:
    """Beat runs this every 2 s: audit entries move from Redis into the Neo4j chain. While
    Neo4j is down it fails and the entries wait in the stream for a later run."""
    clients = worker.current()
    return clients.runner.run(audit_drain.drain_stream(clients.redis, clients.store))


STORAGE_RETRIES = 20  # an import waits this many tries for its storage, 5 s to 5 min apart
PULL_LIMIT = 600.0  # seconds a feed pull may run before it is given up (and its lock freed)
# Neo4j away (a restart, a failover): an import meeting it runs again from the start, 5, 10 and
# 20 s later, then every 30 s for as long as it takes; the rerun writes nothing twice.
NEO4J_AWAY = (ServiceUnavailable, SessionExpired)
NEO4J_RETRY_SECONDS = (5, 10, 20, 30)


@app.task(name="connectors.tasks.import_archive", bind=True, max_retries=STORAGE_RETRIES)
def import_archive(
    task: Any,
    import_id: str,
    key: str,
    agency: str,
    by: str,
    file_name: str,
    fmt: str | None,
    limits: dict[str, int] | None = None,
) -> dict[str, Any]:
    """An uploaded archive (POST /archives), read from storage by its key, so any worker on
    any machine takes it. Acknowledged late: if the worker dies, another runs it again from
    the start, and natural keys make the rerun write nothing twice. ``limits`` are the API's
    workbook limits, checked again where the file is read. The file leaves storage however the
    import ends, so a failed upload leaves nothing behind; a worker killed mid-import raises
    nothing here and its rerun still finds the file. While storage does not answer the import
    waits QUEUED and the task is tried again (:data:`STORAGE_RETRIES` times), then FAILED;
    while Neo4j does not, it waits with its file kept and is tried again until it does (found
    by `make soak`: it stayed QUEUED for good)."""
    clients = worker.current()
    try:
        known = clients.runner.run(find_import(clients.store, import_id))
    except NEO4J_AWAY as exc:
        _wait_for_neo4j(task, import_id, exc)
    if known is not None and known["status"] in ("DONE", "FAILED"):
        return {"status": known["status"], "again": True}  # the broker's late copy of a rerun
    arguments = {
        "import_id": import_id, "key": key, "agency": agency, "by": by,
        "file_name": file_name, "fmt": fmt, "limits": limits,
    }  # fmt: skip
    storage = open_storage(configured().storage)
    try:
        with (
            kept_alive(configured().redis_url, import_id, arguments),
            storage.local_file(key) as path,
        ):
            counts = clients.runner.run(
                run_import(
                    clients.store,
                    path,
                    import_id=import_id,
                    agency=agency,
                    by=by,
                    file_name=file_name,
                    fmt=fmt,
                    limits=XlsxLimits(**limits) if limits else DEFAULT_LIMITS,
                )
            )
    except (MissingObject, BadKey) as exc:
        error = (
            "the uploaded file is not in storage: do the API and this worker share it?"
            if isinstance(exc, MissingObject)
            else "queued with a file path by an older hub, not a storage key: upload it again"
        )
        clients.runner.run(fail_import(clients.store, import_id, error))
        log.error("archive file not found", import_id=import_id, key=key, error=error)
        return {"status": "FAILED", "error": error}
    except NEO4J_AWAY as exc:
        _wait_for_neo4j(task, import_id, exc)  # before the catch-all: the file stays
    except StorageUnavailable as exc:
        tries = task.request.retries
        if tries < STORAGE_RETRIES:
            raise task.retry(exc=exc, countdown=min(300, 5 * 2**tries)) from None
        error = f"storage did not answer after {tries} tries: {exc}"
        clients.runner.run(fail_import(clients.store, import_id, error))
        return {"status": "FAILED", "error": error}
    except Exception as exc:  # recorded FAILED on the import, which is never retried
        _discard(storage, key)
        if isinstance(exc, ArchiveFormatError):
            return {"status": "FAILED", "error": str(exc)}
        raise
    _discard(storage, key)
    log.info("archive imported", import_id=import_id, **asdict(counts))
    return {"status": "DONE", **asdict(counts)}


def _wait_for_neo4j(task: Any, import_id: str, exc: Exception) -> NoReturn:
    """Send the import again later: Neo4j is away, which is no fault of the file."""
    wait = NEO4J_RETRY_SECONDS[min(task.request.retries, len(NEO4J_RETRY_SECONDS) - 1)]
    log.warning("import waits for Neo4j", import_id=import_id, retry_in=wait, error=repr(exc))
    raise task.retry(exc=exc, countdown=wait, max_retries=None) from None


def _discard(storage: Storage, key: str) -> None:
    """An imported (or refused) file leaves storage; if storage is away it stays, unread."""
    try:
        storage.delete(key)
    except StorageUnavailable as exc:
        log.warning("archive file left in storage", key=key, error=str(exc))


@app.task(name="connectors.tasks.reclaim_imports")
def reclaim_imports() -> int:
    """Beat runs this every 10 s: imports whose whole worker died are sent again
    (connectors/reclaim.py); how many."""
    again = lapsed(configured().redis_url)
    for arguments in again:
        import_archive.apply_async(kwargs=arguments)
    return len(again)


@app.task(name="connectors.tasks.expire_records")
def expire_records() -> dict[str, int]:
    """Beat runs this hourly: publication of records and listings ends at the maximum period,
    ratings follow, and partners are told each listing ended."""
    clients = worker.current()
    records = clients.runner.run(expire(clients.store, catalogue()))
    ended = clients.runner.run(expire_listings(clients.store, catalogue(), date.today()))
    for event in ended:
        wake(event.partners, event.subject)
    return {"records": records, "listings": len(ended)}


@cache
def read_retention(path: Path) -> Retention:
    """The retention file at ``path``, validated once."""
    return load_retention(path)


@app.task(name="connectors.tasks.retain")
def retain() -> dict[str, dict[str, int]] | None:
    """Beat runs this hourly: outbox events, deliveries and import reports past their period
    (policies/retention.yaml) are exported to storage, then removed; None when another
    run holds the lock."""
    clients, config = worker.current(), configured()
    rules = read_retention(config.retention_file)
    now = datetime.now(UTC)
    report = clients.runner.run(
        run_alone(clients.redis, clients.store, rules, open_storage(config.storage), now)
    )
    if report is None:
        return None
    log.info("retention run", seconds=round(report.seconds, 1), **report.counts())
    return report.counts()


@app.task(name="connectors.tasks.escalate_complaints")
def escalate_complaints() -> int:
    """Beat runs this: overdue open complaints and reports go one unit up (policies/rights.yaml)."""
    clients = worker.current()
    return clients.runner.run(escalate_overdue(clients.store, default_rights(), date.today()))


@app.task(name="connectors.tasks.remind_cases")
def remind_cases(today: str | None = None) -> int:
    """Beat runs this: each open case whose duty is overdue is reminded (催办) the day after its
    due day, then every few working days (policies/cases.yaml); ``today`` (YYYY-MM-DD) runs it
    as of another day. Returns how many reminders were sent."""
    clients = worker.current()
    day = date.fromisoformat(today) if today else date.today()
    sent = clients.runner.run(remind(clients.store, default_cases(), day))
    for event in sent:
        wake(event.partners, event.subject)
    return len(sent)


@app.task(name="connectors.tasks.deliver")
def deliver(partner: str, shard: int) -> dict[str, int]:
    """Work one delivery lane until nothing in it is due. Acknowledged late: a worker killed
    mid-delivery leaves the deliveries pending and the task is run again."""
    clients = worker.current()
    rules = catalogue()

    async def work() -> dict[str, int]:
        posted = delivered = 0
        while True:
            run = await run_lane(
                clients.store,
                clients.redis,
                clients.http,
                rules,
                partner,
                shard,
                clients.targets,
            )
            posted, delivered = posted + run.posted, delivered + run.delivered
            # A delivery made due while this run held the lane found it taken: look once more.
            if run.skipped or not await due(clients.store, partner, shard, time.time(), 1):
                return {"posted": posted, "delivered": delivered}

    return clients.runner.run(work())


@app.task(name="connectors.tasks.sweep_deliveries")
def sweep_deliveries() -> int:
    """Beat runs this every second: every lane with a due delivery and no runner gets one, so
    retries happen on time and nothing waits on a lost broker message."""
    clients = worker.current()

    async def work() -> int:
        started = 0
        for partner, shard in await lanes_due(clients.store, time.time()):
            lock = lane_lock(clients.redis, partner, shard)
            if not await clients.redis.exists(lock.key):
                deliver.apply_async((partner, shard), expires=30)
                started += 1
        return started

    return clients.runner.run(work())


@app.task(name="connectors.tasks.reconcile_partners")
def reconcile_partners() -> dict[str, dict[str, int]]:
    """Beat runs this hourly: each partner's reported measures against the hub's listings;
    what differs is sent again."""
    clients = worker.current()
    rules = catalogue()

    async def work() -> dict[str, dict[str, int]]:
        done = {}
        for partner in await all_partners(clients.store):
            if partner.status != "ACTIVE" or not partner.endpoint:
                continue
            found = await reconcile(
                clients.store,
                rules,
                partner.code,
                rules.delivery.reconcile_after_seconds,
            )
            done[partner.code] = {"unapplied": found.unapplied, "stale": found.stale}
        return done

    return clients.runner.run(work())


@app.task(name="connectors.tasks.pull_feeds")
def pull_feeds() -> dict[str, Any]:
    """Beat runs this every minute: each enabled outside list is pulled when due (one puller
    per feed at a time), and partners are woken for what changed."""
    clients = worker.current()

    async def work() -> dict[str, Any]:
        done: dict[str, Any] = {}
        async with httpx.AsyncClient() as http:
            for feed in await feeds_due(clients.redis, time.time()):
                # Renewed beside the pull: a worker killed mid-pull leaves the feed to the
                # next one within the lock's few seconds, not after the longest pull.
                lock = RedisLock(clients.redis, f"hub:feed:{feed.code}:lock")
                if not await lock.acquire():
                    continue
                pulling = pull(clients.store, clients.redis, http, catalogue(), feed, date.today())
                try:
                    report = await lock.hold(pulling, limit=PULL_LIMIT)
                except (FeedFetchError, LockLost) as exc:
                    done[feed.code] = f"failed: {exc}"
                    continue
                finally:
                    await lock.release()
                for subject, partners in report.events:
                    wake(partners, subject)
                done[feed.code] = {
                    "listed": report.listed,
                    "modified": report.modified,
                    "ended": report.ended,
                    "attached": report.attached,
                    "queued": report.queued,
                    "rejected": len(report.rejected),
                }
        return done

    return clients.runner.run(work())
