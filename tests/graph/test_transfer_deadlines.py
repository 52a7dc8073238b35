"""A transfer's deadlines against the real Neo4j with an injected clock: a case is on its unit's
overdue list from the day after its duty falls due (National Day and Spring Festival off, their
Saturdays worked), and reminded (催办) that day and then every 5 working days, once a day
however often the reminders run, starting over when a new document sets a new duty."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from typing import Any

from graph.assessment import assess
from graph.cases.reminders import REMINDER_EVENT, remind
from graph.db import Store
from graph.rights.overdue import overdue_items
from policies.cases import default_cases
from policies.units import AGENCY_PREFIX, unit_prefix
from tests.subjects import fresh_subjects
from tests.transfers import UNIT, add_document, open_transfer_case

RULES = default_cases()
START = (date(1970, 1, 1), "")


async def _overdue(store: Store, unit: str, day: date, case_id: str) -> list[dict[str, Any]]:
    prefix = AGENCY_PREFIX + unit_prefix(unit)
    return [r for r in await overdue_items(store, prefix, day, START, 1000) if r["id"] == case_id]


async def _reminders(store: Store, code: str) -> list[dict[str, Any]]:
    rows = await store.read(
        "MATCH (e:OutboxEvent {subject: $code, type: $type}) RETURN e.data AS data "
        "ORDER BY e.seq",
        code=code, type=REMINDER_EVENT,
    )  # fmt: skip
    return [json.loads(r["data"]) for r in rows]


async def _assessed(store: Store, today: date) -> int:
    """The unit's overdue cases as the collection assessment counts them on ``today``."""
    rows = await assess(store, today, today, today, UNIT)
    return sum(r["overdueCases"] for r in rows)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def test_an_approved_transfer_is_overdue_the_day_after_its_due_day(store: Store) -> None:
    [(code, record)] = fresh_subjects(1)
    case_id = await open_transfer_case(store, code, record, date(2026, 9, 28))
    before = await _assessed(store, date(2026, 10, 9))
    # Approved Wednesday Sep 30: the transfer is due within one working day, Thu Oct 8.
    await add_document(store, case_id, "TRANSFER_APPROVAL", "乌自然资批〔2026〕1号",
                       date(2026, 9, 30))  # fmt: skip

    assert await _overdue(store, UNIT, date(2026, 10, 8), case_id) == []
    [item] = await _overdue(store, UNIT, date(2026, 10, 9), case_id)
    assert item == {
        "kind": "Case", "id": case_id, "status": "OPEN", "unit": UNIT, "creditCode": code,
        "filedOn": "2026-09-28", "dueOn": "2026-10-08", "duty": "TRANSFER_APPROVAL",
        "party": "DEPARTMENT",
    }  # fmt: skip
    for above in ("NMG152200", "NMG150000"):  # its league, the region
        assert [i["id"] for i in await _overdue(store, above, date(2026, 10, 9), case_id)] == [
            case_id
        ], above
    assert await _overdue(store, "NMG150102", date(2026, 10, 9), case_id) == []  # elsewhere

    # The collection assessment counts it with the unit's overdue cases.
    assert await _assessed(store, date(2026, 10, 9)) == before + 1

    # Transferred on the due day: the police's 3 working days run Oct 9, 10 (worked), 12.
    await add_document(store, case_id, "TRANSFER", "乌自然资移〔2026〕1号", date(2026, 10, 8))
    assert await _overdue(store, UNIT, date(2026, 10, 12), case_id) == []
    [item] = await _overdue(store, UNIT, date(2026, 10, 13), case_id)
    assert (item["duty"], item["party"], item["dueOn"]) == ("TRANSFER", "POLICE", "2026-10-12")


async def test_a_transfer_before_spring_festival_is_due_after_it(store: Store) -> None:
    [(code, record)] = fresh_subjects(1)
    case_id = await open_transfer_case(store, code, record, date(2026, 2, 10))
    # Friday Feb 13: the police's days are Sat 14 (worked), Tue 24 and Wed 25 (Feb 15-23 off).
    await add_document(store, case_id, "TRANSFER", "乌自然资移〔2026〕2号", date(2026, 2, 13))
    assert await _overdue(store, UNIT, date(2026, 2, 25), case_id) == []
    [item] = await _overdue(store, UNIT, date(2026, 2, 26), case_id)
    assert (item["duty"], item["party"], item["dueOn"]) == ("TRANSFER", "POLICE", "2026-02-25")
    # The police file it: the duty the list showed is answered.
    await add_document(store, case_id, "FILING_NOTICE", "乌公立〔2026〕2号", date(2026, 2, 26))
    assert await _overdue(store, UNIT, date(2026, 2, 27), case_id) == []


async def test_reminders_fall_the_day_after_then_every_five_working_days_once_a_day(
    store: Store,
) -> None:
    [(code, record)] = fresh_subjects(1)
    case_id = await open_transfer_case(store, code, record, date(2026, 9, 28))
    await add_document(store, case_id, "TRANSFER_APPROVAL", "乌自然资批〔2026〕3号",
                       date(2026, 9, 30))  # fmt: skip

    sent_on = []
    for day in _days(date(2026, 10, 8), date(2026, 10, 20)):
        # Twice each day, and twice at once on the first: one reminder a day at most.
        runs = await asyncio.gather(remind(store, RULES, day), remind(store, RULES, day))
        runs.append(await remind(store, RULES, day))
        mine = [e for run in runs for e in run if e.subject == code]
        assert len(mine) <= 1, day
        sent_on += [day] * len(mine)
    assert sent_on == [date(2026, 10, 9), date(2026, 10, 15)]  # Sat Oct 10 worked: counted

    reminders = await _reminders(store, code)
    assert [r["remindedOn"] for r in reminders] == ["2026-10-09", "2026-10-15"]
    assert reminders[0] == {
        "caseId": case_id, "creditCode": code, "unit": UNIT, "duty": "TRANSFER_APPROVAL",
        "party": "DEPARTMENT", "dutySince": "2026-09-30", "dueOn": "2026-10-08",
        "daysOverdue": 1, "source": RULES.duties["TRANSFER_APPROVAL"].deadline.source,
        "expects": ["TRANSFER"], "remindedOn": "2026-10-09", "reminder": 1,
    }  # fmt: skip
    assert (reminders[1]["daysOverdue"], reminders[1]["reminder"]) == (6, 2)
    # Run for a day already past, nothing is sent again.
    assert [e for e in await remind(store, RULES, date(2026, 10, 9)) if e.subject == code] == []

    # The transfer, late, sets the police's duty going: due Oct 21, reminded from Oct 22.
    await add_document(store, case_id, "TRANSFER", "乌自然资移〔2026〕3号", date(2026, 10, 16))
    for day in (date(2026, 10, 21), date(2026, 10, 22), date(2026, 10, 23)):
        await remind(store, RULES, day)
    latest = (await _reminders(store, code))[2:]
    assert [(r["duty"], r["party"], r["remindedOn"], r["reminder"]) for r in latest] == [
        ("TRANSFER", "POLICE", "2026-10-22", 1)
    ]
    assert latest[0]["expects"] == ["FILING_NOTICE", "NON_FILING_NOTICE"]

    # Answered: no more reminders.
    await add_document(store, case_id, "FILING_NOTICE", "乌公立〔2026〕3号", date(2026, 10, 23))
    for day in _days(date(2026, 10, 24), date(2026, 11, 6)):
        await remind(store, RULES, day)
    assert len(await _reminders(store, code)) == 3
