"""What an operator must act on, read fresh at each scrape of ``/metrics``: the work waiting.

Counters in the API processes cannot tell what waits elsewhere, so a scrape asks: Redis for the
Celery queue, the audit stream and its dead letters, the worker's heartbeat; Neo4j for each
partner's pending and dead-lettered deliveries and how old its oldest pending one is (the
delivery lag). ops/prometheus/alerts.yml raises alerts on them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from connectors.audit_drain import AUDIT_STREAM, dead_letters
from connectors.celery_app import HEARTBEAT_KEY
from graph.db import Store

CELERY_QUEUE = "celery"  # the default queue every task goes to (connectors/celery_app.py)

# Per partner: deliveries waiting, dead-lettered, and the oldest waiting one's creation time.
BY_PARTNER = """
MATCH (p:Partner)
RETURN p.code AS partner, p.status AS status,
  COUNT { MATCH (d:Delivery {partner: p.code, status: 'PENDING'}) WHERE d.nextAt IS NOT NULL }
    AS pending,
  COUNT { MATCH (d:Delivery {partner: p.code, status: 'DEAD'}) WHERE d.nextAt IS NOT NULL }
    AS dead,
  COLLECT { MATCH (d:Delivery {partner: p.code, status: 'PENDING'}) WHERE d.nextAt IS NOT NULL
            RETURN d.createdAt ORDER BY d.createdAt LIMIT 1 } AS oldest
"""


@dataclass(slots=True)
class Backlog:
    queued: int = 0  # Celery tasks waiting in Redis
    audit_waiting: int = 0  # audit entries not yet in the chain
    audit_dead: int = 0  # malformed audit entries set aside
    heartbeat_age: float = -1.0  # seconds since a worker ran beat's heartbeat; -1: never
    partners: list[dict[str, Any]] = field(default_factory=list)


async def read_backlog(redis: Any, store: Store) -> Backlog:
    """The waiting work, now. Each store that does not answer leaves its part out."""
    found = Backlog()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.llen(CELERY_QUEUE)
        pipe.xlen(AUDIT_STREAM)
        pipe.xlen(dead_letters(AUDIT_STREAM))
        pipe.get(HEARTBEAT_KEY)
        queued, waiting, dead, beat = await pipe.execute()
    found.queued, found.audit_waiting, found.audit_dead = int(queued), int(waiting), int(dead)
    if beat is not None:
        found.heartbeat_age = max(time.time() - float(beat), 0.0)
    found.partners = [dict(r) for r in await store.read(BY_PARTNER)]
    return found


class BacklogCollector(Collector):
    """The backlog read for one scrape, as gauges."""

    def __init__(self, backlog: Backlog, now: float) -> None:
        self.backlog, self.now = backlog, now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        b = self.backlog
        yield GaugeMetricFamily(
            "hub_backlog_readable", "Whether this scrape could read the backlog", 1
        )
        yield GaugeMetricFamily("hub_queue_tasks", "Celery tasks waiting in Redis", b.queued)
        yield GaugeMetricFamily(
            "hub_audit_backlog", "Audit entries not yet in the chain", b.audit_waiting
        )
        yield GaugeMetricFamily(
            "hub_audit_dead_letters", "Malformed audit entries set aside", b.audit_dead
        )
        yield GaugeMetricFamily(
            "hub_worker_heartbeat_age_seconds",
            "Seconds since a worker last ran the scheduler's heartbeat (-1: never)",
            b.heartbeat_age,
        )
        pending = GaugeMetricFamily(
            "hub_delivery_pending", "Deliveries waiting, per partner", labels=["partner"]
        )
        dead = GaugeMetricFamily(
            "hub_delivery_dead", "Deliveries dead-lettered, per partner", labels=["partner"]
        )
        lag = GaugeMetricFamily(
            "hub_delivery_lag_seconds",
            "Age of the oldest waiting delivery, per active partner (0: none waiting)",
            labels=["partner"],
        )
        for row in b.partners:
            pending.add_metric([row["partner"]], row["pending"])
            dead.add_metric([row["partner"]], row["dead"])
            if row["status"] == "ACTIVE":  # a paused partner's deliveries wait on purpose
                oldest = row["oldest"][0] if row["oldest"] else None
                lag.add_metric([row["partner"]], max(self.now - oldest, 0.0) if oldest else 0.0)
        yield from (pending, dead, lag)
