"""The escalation of overdue complaints runs in a real Celery worker, from the beat schedule's
task name, against the suite's Neo4j and Redis: an overdue complaint goes one unit up."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

from connectors.celery_app import app
from connectors.tasks import escalate_complaints
from graph.db import Store
from graph.rights.complaint_handling import complaint
from graph.rights.complaints import Filing, file_complaint
from policies.access import read_scope
from policies.principal import public_principal
from policies.rights import default_rights
from policies.units import unit_prefix
from tests.conftest import TEST_DATA, Workers


def test_the_beat_schedule_runs_the_escalation_at_least_daily() -> None:
    entry = app.conf.beat_schedule["escalate-complaints"]
    assert entry["task"] == escalate_complaints.name
    assert entry["schedule"] <= 86400


async def test_the_worker_moves_an_overdue_complaint_one_unit_up(
    store: Store, workers: Workers
) -> None:
    filed_on = date.today() - timedelta(days=20)  # accept deadline 15 days on: overdue today
    filing = Filing("COMPLAINT", "办理采矿权延续申请超期，未说明理由。", about_unit="NMG152201")
    scope = read_scope(public_principal("test")).params()
    receipt = await file_complaint(store, default_rights(), filing, [], scope=scope, today=filed_on)
    assert receipt.unit == "NMG152200"

    escalate_complaints.delay()
    deadline = time.monotonic() + 90
    while True:
        found = await complaint(store, unit_prefix("NMG150000"), receipt.id)
        assert found is not None
        if found.escalations:
            break
        assert time.monotonic() < deadline, (
            f"not escalated: see {TEST_DATA / 'logs' / 'delivery-worker.log'}"
        )
        await asyncio.sleep(0.5)
    assert (found.escalated_to, found.escalations) == ("NMG150000", 1)
    assert [(s.kind, s.on, s.unit) for s in found.steps][-1] == (
        "ESCALATED",
        date.today(),
        "NMG150000",
    )
