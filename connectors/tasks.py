"""Celery tasks."""

from __future__ import annotations

import time

import redis

from .celery_app import BROKER, app

HEARTBEAT_KEY = "hub:worker:heartbeat"


@app.task(name="connectors.tasks.heartbeat")
def heartbeat() -> float:
    """Beat → worker round trip, so `hub status` can tell that both are alive."""
    now = time.time()
    redis.Redis.from_url(BROKER).set(HEARTBEAT_KEY, now, ex=120)
    return now
