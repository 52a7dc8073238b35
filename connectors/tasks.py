"""Celery tasks."""

from __future__ import annotations

import time

import redis

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
