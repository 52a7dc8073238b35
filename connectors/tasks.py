"""Celery tasks."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import redis

from graph.archive import import_archive as run_import
from graph.archive_files import ArchiveFormatError
from graph.review import expire

from . import audit
from .celery_app import BROKER, app

HEARTBEAT_KEY = "hub:worker:heartbeat"


@app.task(name="connectors.tasks.heartbeat")
def heartbeat() -> float:
    """Beat → worker round trip, so `hub status` can tell that both are alive."""
    now = time.time()
    redis.Redis.from_url(BROKER).set(HEARTBEAT_KEY, now, ex=120)
    return now


@app.task(name="connectors.tasks.drain_audit")
def drain_audit() -> int | None:
    """Beat runs this every 2 s: audit entries move from Redis into the Neo4j chain. While
    Neo4j is down it fails and the entries wait in the stream for a later run."""
    return audit.drain_in_worker(BROKER)


@app.task(name="connectors.tasks.import_archive")
def import_archive(
    import_id: str, path: str, agency: str, by: str, file_name: str, fmt: str | None
) -> dict[str, Any]:
    """An uploaded archive (POST /archives). Acknowledged late: if the worker dies, another
    runs it again from the start, and natural keys make the rerun write nothing twice."""
    clients = audit.worker_clients(os.getpid(), threading.get_ident(), BROKER)
    try:
        counts = clients.runner.run(
            run_import(
                clients.driver,
                clients.database,
                Path(path),
                import_id=import_id,
                agency=agency,
                by=by,
                file_name=file_name,
                fmt=fmt,
            )
        )
    except ArchiveFormatError as exc:
        return {"status": "FAILED", "error": str(exc)}  # recorded on the import; no retry
    Path(path).unlink(missing_ok=True)
    return {"status": "DONE", **asdict(counts)}


@app.task(name="connectors.tasks.expire_records")
def expire_records() -> int:
    """Beat runs this hourly: publication ends at the maximum period, ratings follow."""
    clients = audit.worker_clients(os.getpid(), threading.get_ident(), BROKER)
    return clients.runner.run(expire(clients.driver, clients.database))
