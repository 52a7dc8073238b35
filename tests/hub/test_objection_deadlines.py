"""Objection deadlines with the clock injected into the graph functions: acceptance and
decision fall on the right working day across Spring Festival 2026 (Feb 15-23 off, Saturday
Feb 14 worked), Mid-Autumn Festival and National Day 2026 (Sep 25 and Oct 1-7 off, Saturday
Oct 10 worked), and an objection not taken up by its due date shows as overdue the day after."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from graph.db import Store
from graph.rights.objection_steps import Actor, accept
from graph.rights.objections import Filing, file_objection, queue
from policies.credit.measures import Catalogue
from policies.rights import default_rights
from policies.units import unit_prefix
from tests.hub.test_objections import REASONS, UNIT
from tests.subjects import fresh_subjects


async def test_deadlines_fall_on_working_days_across_the_holidays_and_overdue_shows(
    store: Store, rules: tuple[Path, Catalogue]
) -> None:
    deadlines, catalogue = default_rights(), rules[1]
    actor = Actor("reviewer-ob-t", UNIT, unit_prefix(UNIT), {})
    (a_code, a_record), (b_code, b_record), (c_code, c_record) = fresh_subjects(3)

    async def filed(code: str, record: str, on: date) -> dict[str, Any]:
        filing = Filing(code, "RECORD", record, REASONS, f"oidc:{code}")
        return await file_objection(store, catalogue, deadlines, filing, on)

    async def overdue(on: date) -> set[str]:
        rows = await queue(
            store, prefix=unit_prefix(UNIT), status=None, overdue=True, today=on, after="",
            limit=100,
        )  # fmt: skip
        return {r["id"] for r in rows}

    # Filed Thursday Feb 12: Feb 13 and Saturday Feb 14 count, then Feb 24 after the festival.
    spring = await filed(a_code, a_record, date(2026, 2, 12))
    assert spring["dueOn"] == "2026-02-24"
    assert spring["id"] not in await overdue(date(2026, 2, 24))
    assert spring["id"] in await overdue(date(2026, 2, 25))  # not accepted by its due date
    taken = await accept(
        store, catalogue, deadlines, spring["id"], accepted=True, reason=None, actor=actor,
        today=date(2026, 2, 24),
    )  # fmt: skip
    # 15 working days from Feb 24, Saturday Feb 28 among them: Monday March 16.
    assert (taken["status"], taken["dueOn"]) == ("ACCEPTED", "2026-03-16")
    assert spring["id"] not in await overdue(date(2026, 3, 16))
    assert spring["id"] in await overdue(date(2026, 3, 17))

    # Filed Wednesday Sep 30: Oct 8, Oct 9 and the worked Saturday Oct 10.
    national = await filed(b_code, b_record, date(2026, 9, 30))
    assert national["dueOn"] == "2026-10-10"
    assert national["id"] in await overdue(date(2026, 10, 12))
    # Filed Thursday Sep 24: Mid-Autumn Festival (Friday Sep 25) and the weekend do not count.
    early = await filed(c_code, c_record, date(2026, 9, 24))
    assert early["dueOn"] == "2026-09-30"
    taken = await accept(
        store, catalogue, deadlines, early["id"], accepted=True, reason=None, actor=actor,
        today=date(2026, 9, 28),
    )  # fmt: skip
    # Sep 29-30, the week off, then Oct 8 onwards with Saturday Oct 10: Friday Oct 23.
    assert taken["dueOn"] == "2026-10-23"
    assert early["id"] not in await overdue(date(2026, 10, 23))
    assert early["id"] in await overdue(date(2026, 10, 24))
