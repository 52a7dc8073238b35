"""The Celery application: broker, reliability settings and the beat schedule.

Tasks are acknowledged after they finish and requeued when a worker dies, so a delivery in
flight is never lost; the broker is the same Redis the API uses, set by
``connectors.config.configure`` from the hub's settings (``HUB_REDIS_URL``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import structlog
from celery import Celery, Task
from celery.signals import before_task_publish, task_postrun, task_prerun

from connectors.config import WorkerConfig, on_configure
from connectors.coordination import causal
from connectors.reclaim import RECLAIM_EVERY
from graph.exchange.outbox import Emitted, shard_of

log = logging.getLogger(__name__)
HEARTBEAT_KEY = "hub:worker:heartbeat"  # set by the heartbeat task beat sends (hub status)

app = Celery("hub", include=["connectors.tasks"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,  # hub/logs.py: JSON lines with the request id
    broker_transport_options={"visibility_timeout": 3600},
    timezone="Asia/Shanghai",
    beat_schedule={
        "heartbeat": {"task": "connectors.tasks.heartbeat", "schedule": 15.0},
        # Stale runs (queued behind a Neo4j outage) are dropped, not piled up.
        "drain-audit": {
            "task": "connectors.tasks.drain_audit",
            "schedule": 2.0,
            "options": {"expires": 10},
        },
        # Retries come due here, and lanes whose wake-up was lost are found again.
        "sweep-deliveries": {
            "task": "connectors.tasks.sweep_deliveries",
            "schedule": 1.0,
            "options": {"expires": 5},
        },
        # Imports whose whole worker died go again within a minute (connectors/reclaim.py).
        "reclaim-imports": {
            "task": "connectors.tasks.reclaim_imports",
            "schedule": RECLAIM_EVERY,
            "options": {"expires": 8},
        },
        "pull-feeds": {
            "task": "connectors.tasks.pull_feeds",
            "schedule": 60.0,
            "options": {"expires": 50},
        },
        "reconcile-partners": {
            "task": "connectors.tasks.reconcile_partners",
            "schedule": 3600.0,
            "options": {"expires": 600},
        },
        "expire-records": {
            "task": "connectors.tasks.expire_records",
            "schedule": 3600.0,
            "options": {"expires": 600},
        },
        # Daily in effect: a complaint moves at most once a day, and an hourly run catches up
        # the day a beat outage at midnight would otherwise skip.
        "escalate-complaints": {
            "task": "connectors.tasks.escalate_complaints",
            "schedule": 3600.0,
            "options": {"expires": 600},
        },
        # Outbox events, deliveries and import reports past their period: exported, then
        # removed (connectors/retention.py); a run takes at most max_rows of each kind.
        "retention": {
            "task": "connectors.tasks.retain",
            "schedule": 3600.0,
            "options": {"expires": 600},
        },
        # Daily in effect too: a case is reminded at most once a day (graph/cases/reminders.py).
        "remind-cases": {
            "task": "connectors.tasks.remind_cases",
            "schedule": 3600.0,
            "options": {"expires": 600},
        },
    },
)


def _use_broker(config: WorkerConfig) -> None:
    app.conf.broker_url = config.redis_url


on_configure(_use_broker)


@before_task_publish.connect
def _carry_request(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """A task sent while handling a request carries the request's id and bookmarks to its
    worker (the bookmarks from a task too: what it wrote before queueing the next)."""
    if headers is None:
        return
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        headers["hub_request_id"] = request_id
    causal.carry(headers)


@task_prerun.connect
def _bind_request(task_id: str, task: Task, **_: Any) -> None:
    """A task's log lines name it and, when a request sent it, the request's id; its reads
    wait for what the request that sent it wrote (connectors/coordination/causal.py)."""
    causal.take(getattr(task.request, causal.HEADER, None))
    structlog.contextvars.clear_contextvars()
    request_id = getattr(task.request, "hub_request_id", None)
    extra = {"request_id": request_id} if request_id else {}
    structlog.contextvars.bind_contextvars(task=task.name, task_id=task_id, **extra)


@task_postrun.connect
def _unbind(task: Task, **_: Any) -> None:
    causal.release(getattr(task.request, causal.HEADER, None))
    structlog.contextvars.clear_contextvars()


def wake(partners: list[str] | tuple[str, ...], subject: str) -> None:
    """Start delivering an event just committed (the sweeper would, within a second or so).
    Sent by name, so the API and the command line need not load the workers' code."""
    for partner in partners:
        app.send_task("connectors.tasks.deliver", (partner, shard_of(subject)), expires=60)


async def wake_soon(event: Emitted | None) -> None:
    """:func:`wake` for an event a request just committed, off the event loop. The beat's
    sweeper delivers within a second anyway, so a failure (Redis briefly away) is logged, not
    the caller's problem."""
    if event is None or not event.partners:
        return
    try:
        await asyncio.to_thread(wake, event.partners, event.subject)
    except Exception:
        log.warning("could not wake delivery for %s; the sweeper will", event.id)
