"""Complaint deadlines and escalation with an injected clock, across Spring Festival 2026
(Feb 15-23 off, Saturdays Feb 14 and 28 worked) and National Day 2026 (Oct 1-7 off, Sunday
Sep 20 and Saturday Oct 10 worked), against the real Neo4j: accept and answer deadlines run on
natural days as rights.yaml says, escalation goes one unit up the day after a deadline and again
every five working days, which the holidays stretch."""

from __future__ import annotations

from datetime import date

from graph.db import Store
from graph.rights.complaint_handling import Handled, complaint, decide, escalate_overdue
from graph.rights.complaints import Filing, file_complaint
from policies.access import read_scope
from policies.principal import public_principal
from policies.rights import default_rights
from policies.units import unit_prefix
from tests.subjects import fresh_subjects

RULES = default_rights()
REGION = unit_prefix("NMG150000")
SCOPE = read_scope(public_principal("test")).params()


async def _filed(store: Store, about: str, on: date) -> str:
    """A complaint about the unit ``about``, filed on ``on``."""
    filing = Filing("COMPLAINT", f"{about} 未按期答复我单位的用地申请，请督办。", about_unit=about)
    receipt = await file_complaint(store, RULES, filing, [], scope=SCOPE, today=on)
    return receipt.id


async def _now(store: Store, complaint_id: str) -> Handled:
    found = await complaint(store, REGION, complaint_id)
    assert found is not None
    return found


async def _escalate_through(store: Store, complaint_id: str, days: list[date]) -> list[date]:
    """Run the daily escalation on each day; the days on which this complaint moved."""
    moved = []
    for day in days:
        before = (await _now(store, complaint_id)).escalations
        await escalate_overdue(store, RULES, day)
        if (await _now(store, complaint_id)).escalations > before:
            moved.append(day)
    return moved


def _days(first: date, last: date) -> list[date]:
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


async def test_the_accept_deadline_counts_natural_days_through_spring_festival(
    store: Store,
) -> None:
    """Filed on Feb 10: 15 natural days (《信访工作条例》 art. 24) end on Feb 25, the holiday
    not added; the rule's own calendar says so, not the working days."""
    assert RULES.complaint_accept.calendar == "natural"
    complaint_id = await _filed(store, "NMG152201", date(2026, 2, 10))
    filed = await _now(store, complaint_id)
    assert (filed.filed_on, filed.accept_due, filed.due_on) == (
        date(2026, 2, 10),
        date(2026, 2, 25),
        date(2026, 2, 25),
    )
    assert filed.unit == "NMG152200" and filed.status == "RECEIVED" and filed.open


async def test_an_overdue_complaint_goes_up_the_day_after_and_again_after_five_working_days(
    store: Store,
) -> None:
    """Due Feb 13 (filed Jan 29): up to the region on Feb 14; five working days later is Feb 28
    (Feb 15-23 off, Feb 24-27 and the worked Saturday Feb 28), then Mar 6."""
    complaint_id = await _filed(store, "NMG152201", date(2026, 1, 29))
    assert (await _now(store, complaint_id)).due_on == date(2026, 2, 13)
    moved = await _escalate_through(store, complaint_id, _days(date(2026, 2, 10), date(2026, 3, 7)))
    assert moved == [date(2026, 2, 14), date(2026, 2, 28), date(2026, 3, 6)]
    after = await _now(store, complaint_id)
    assert after.escalations == 3 and after.escalated_to == "NMG150000"
    escalated = [s for s in after.steps if s.kind == "ESCALATED"]
    assert [(s.on, s.unit) for s in escalated] == [
        (date(2026, 2, 14), "NMG150000"),  # a league's superior is the region
        (date(2026, 2, 28), "NMG150000"),
        (date(2026, 3, 6), "NMG150000"),
    ]
    # The same day again moves nothing: beat may run the task hourly.
    await escalate_overdue(store, RULES, date(2026, 3, 6))
    assert (await _now(store, complaint_id)).escalations == 3


async def test_a_report_climbs_from_the_banner_to_the_league_then_the_region(
    store: Store,
) -> None:
    """A report about a subject of banner 152201 is the banner's; overdue, it goes to league
    152200, then to the region, where it stays."""
    [(code, _record)] = fresh_subjects(1)
    filing = Filing("REPORT", "该公司在项目用地中存在未批先建行为，请依法核查。", credit_code=code)
    receipt = await file_complaint(store, RULES, filing, [], scope=SCOPE, today=date(2026, 1, 29))
    assert receipt.unit == "NMG152201"
    days = _days(date(2026, 2, 13), date(2026, 3, 6))
    assert await _escalate_through(store, receipt.id, days) == [
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 3, 6),
    ]
    escalated = [s.unit for s in (await _now(store, receipt.id)).steps if s.kind == "ESCALATED"]
    assert escalated == ["NMG152200", "NMG150000", "NMG150000"]


async def test_accepting_starts_the_answer_deadline_and_escalation_over_national_day(
    store: Store,
) -> None:
    """Accepted Aug 1: 60 natural days to answer, due Sep 30. Up on Oct 1; five working days
    later is Oct 13 (Oct 1-7 off; Oct 8, 9, the worked Saturday Oct 10, Oct 12 and 13)."""
    complaint_id = await _filed(store, "NMG152201", date(2026, 7, 20))
    accepted = await decide(
        store,
        RULES,
        complaint_id,
        accept=True,
        reason=None,
        unit="NMG152200",
        prefix=unit_prefix("NMG152200"),
        by="reviewer-1",
        today=date(2026, 8, 1),
    )
    assert (accepted.status, accepted.answer_due, accepted.due_on) == (
        "ACCEPTED",
        date(2026, 9, 30),
        date(2026, 9, 30),
    )
    moved = await _escalate_through(
        store, complaint_id, _days(date(2026, 9, 28), date(2026, 10, 21))
    )
    assert moved == [date(2026, 10, 1), date(2026, 10, 13), date(2026, 10, 20)]


async def test_a_closed_complaint_never_escalates(store: Store) -> None:
    complaint_id = await _filed(store, "NMG152201", date(2026, 9, 1))
    await decide(
        store,
        RULES,
        complaint_id,
        accept=False,
        reason="不属于本机关职责范围，已告知向有权机关提出。",
        unit="NMG152200",
        prefix=unit_prefix("NMG152200"),
        by="reviewer-1",
        today=date(2026, 9, 2),
    )
    moved = await _escalate_through(
        store, complaint_id, _days(date(2026, 9, 15), date(2026, 10, 30))
    )
    assert moved == []
    closed = await _now(store, complaint_id)
    assert closed.status == "REFUSED" and not closed.open and closed.escalations == 0
