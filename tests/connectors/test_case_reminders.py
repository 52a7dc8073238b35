"""Reminders (催办) of an overdue transfer run in a real Celery worker, from the beat schedule's
task name, as of the days a test sends; real partner servers on loopback receive them: a
JUDICIAL partner cleared for RESTRICTED once per reminder day, with who is late and since when;
a BANK partner and a JUDICIAL partner cleared only for SHARED nothing."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

from connectors.celery_app import app
from connectors.tasks import remind_cases
from graph.db import Store
from policies.cases import default_cases
from policies.credit.measures import Catalogue
from tests.partner_registry import registered_partner, wait_for
from tests.subjects import fresh_subjects
from tests.transfers import UNIT, add_document, open_transfer_case

EVENTS = ["case.reminder"]


def test_the_beat_schedule_runs_the_reminders_at_least_daily() -> None:
    entry = app.conf.beat_schedule["remind-cases"]
    assert entry["task"] == remind_cases.name
    assert entry["schedule"] <= 86400


async def test_a_judicial_partner_hears_each_reminder_day_once_and_a_bank_nothing(
    store: Store, lone_worker: subprocess.Popen[bytes], rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    police = await registered_partner(
        store, catalogue, "REM-POLICE", "JUDICIAL", EVENTS, clearance="RESTRICTED"
    )
    bank = await registered_partner(
        store, catalogue, "REM-BANK", "BANK", EVENTS, clearance="RESTRICTED"
    )
    uncleared = await registered_partner(store, catalogue, "REM-COURT", "JUDICIAL", EVENTS)
    try:
        [(code, record)] = fresh_subjects(1)
        case_id = await open_transfer_case(store, code, record, date(2026, 9, 28))
        # Approved Wednesday Sep 30: the transfer is due within one working day, Thu Oct 8.
        await add_document(store, case_id, "TRANSFER_APPROVAL", "乌自然资批〔2026〕21号",
                           date(2026, 9, 30))  # fmt: skip

        # Oct 8 to 20, each day twice, then Oct 22: the one worker runs them in this order.
        days = [date(2026, 10, 8) + timedelta(days=n) for n in range(13)]
        for day in [d for d in days for _ in (1, 2)] + [date(2026, 10, 22)]:
            remind_cases.delay(day.isoformat())
        last = wait_for(
            police.inbox,
            lambda m: (
                m["data"].get("caseId") == case_id and m["data"]["remindedOn"] == "2026-10-22"
            ),
            timeout=120,
        )
        assert last["data"]["reminder"] == 3

        with police.inbox.lock:
            mine = [m for m in police.inbox.applied if m["data"].get("caseId") == case_id]
        assert mine, "the police partner received no reminder"
        assert {m["type"] for m in mine} == {"case.reminder"}
        # The day after the due day, then 5 working days on (Sat Oct 10 worked), and again.
        assert [m["data"]["remindedOn"] for m in mine] == ["2026-10-09", "2026-10-15",
                                                          "2026-10-22"]  # fmt: skip
        assert mine[0]["data"] == {
            "caseId": case_id, "creditCode": code, "unit": UNIT, "duty": "TRANSFER_APPROVAL",
            "party": "DEPARTMENT", "dutySince": "2026-09-30", "dueOn": "2026-10-08",
            "daysOverdue": 1, "expects": ["TRANSFER"], "remindedOn": "2026-10-09", "reminder": 1,
            "source": default_cases().duties["TRANSFER_APPROVAL"].deadline.source,
        }  # fmt: skip
        assert police.inbox.bad_signatures == 0

        # Neither the bank nor the partner without RESTRICTED clearance had a delivery made.
        queued = await store.read(
            "MATCH (d:Delivery {subject: $code}) RETURN d.partner AS partner, count(*) AS n",
            code=code,
        )
        assert {r["partner"]: r["n"] for r in queued} == {"REM-POLICE": 3}
        assert bank.inbox.applied == [] and uncleared.inbox.applied == []
    finally:
        for server in (police, bank, uncleared):
            server.stop()
