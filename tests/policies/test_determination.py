"""Dishonesty determination and a listing's steps, as pure rules: the outcome table, the
statement period in working days, who may decide when, and repair only after the minimum."""

from __future__ import annotations

from datetime import date

import pytest

from policies.credit.determination import (
    DETERMINATION_FILE,
    Case,
    StepRefused,
    answer,
    check_four_eyes,
    decide,
    default_rules,
    determine,
    notify,
    object_to,
    parse_rules,
    repair,
    waive,
)
from policies.loader import PolicyError
from tests.policies.edited import edited

RULES = default_rules()
NOTIFIED = Case("NOTIFIED", "submitter-1", "SERIOUS_DISHONESTY", date(2026, 12, 3))


@pytest.mark.parametrize(
    ("fault", "tiers", "outcome"),
    [
        ("NEGLIGENCE", ["SERIOUS"], "DISHONEST"),
        ("INTENT", ["GENERAL", "SERIOUS"], "SERIOUS_DISHONESTY"),
        ("INTENT", ["GENERAL"], "DISHONEST"),
        ("MALICE", ["GENERAL"], "SERIOUS_DISHONESTY"),
        ("NEGLIGENCE", ["MINOR"], "NONE"),
    ],
)
def test_fault_and_the_worst_tier_decide(fault: str, tiers: list[str], outcome: str) -> None:
    assert determine(RULES, fault, tiers) == outcome


def test_the_statement_period_counts_working_days() -> None:
    # Thursday + 5 working days: the next Thursday.
    step = notify(RULES, Case("PROPOSED", "s", "SERIOUS_DISHONESTY"), date(2026, 11, 26))
    assert step.status == "NOTIFIED" and step.props["statementUntil"] == date(2026, 12, 3)
    # Across the National Day holiday the period ends later than five weekdays would.
    autumn = notify(RULES, Case("PROPOSED", "s", "SERIOUS_DISHONESTY"), date(2026, 9, 30))
    assert autumn.props["statementUntil"] > date(2026, 10, 7)


def test_decide_waits_for_the_period_or_a_waiver() -> None:
    with pytest.raises(StepRefused) as early:
        decide(RULES, NOTIFIED, date(2026, 12, 3), None)
    assert early.value.reason == "statement-open"
    after = decide(RULES, NOTIFIED, date(2026, 12, 4), None)
    assert after.status == "LISTED"
    assert after.props["publishUntil"] == date(2029, 12, 4)  # the maximum, 36 months
    assert after.props["repairableFrom"] == date(2027, 12, 4)  # after the minimum, 12
    waived_case = Case("NOTIFIED", "submitter-1", "SERIOUS_DISHONESTY", date(2026, 12, 3), True)
    assert waive(NOTIFIED).props == {"waived": True}
    assert decide(RULES, waived_case, date(2026, 11, 27), 24).status == "LISTED"


@pytest.mark.parametrize("months", [6, 40])
def test_decide_refuses_a_period_outside_the_bounds(months: int) -> None:
    with pytest.raises(StepRefused) as refused:
        decide(RULES, NOTIFIED, date(2026, 12, 4), months)
    assert refused.value.reason == "period"


@pytest.mark.parametrize(
    ("action", "by", "refused"),
    [
        ("DECIDE", "submitter-1", True),  # proposed it
        ("DECIDE", "reviewer-1", False),  # notified it: the shipped rule allows that
        ("DECIDE", "reviewer-2", False),
        ("ANSWER", "submitter-1", True),
        ("ANSWER", "reviewer-1", True),  # the notice objected to is theirs
        ("ANSWER", "reviewer-2", False),
        ("WAIVE", "reviewer-1", False),
    ],
)
def test_four_eyes_keeps_a_step_from_the_people_of_earlier_ones(
    action: str, by: str, refused: bool
) -> None:
    actors = (("PROPOSE", "submitter-1"), ("NOTIFY", "reviewer-1"), ("OBJECT", "reviewer-2"))
    case = Case("NOTIFIED", "submitter-1", "SERIOUS_DISHONESTY", actors=actors)
    if not refused:
        check_four_eyes(RULES, case, action, by)
        return
    with pytest.raises(StepRefused) as refusal:
        check_four_eyes(RULES, case, action, by)
    assert (refusal.value.code, refusal.value.reason) == ("FORBIDDEN", "four-eyes")
    assert by in str(refusal.value)


def test_objections_only_within_the_period_and_answered() -> None:
    objected = object_to(RULES, NOTIFIED, date(2026, 12, 1))
    assert objected.status == "OBJECTED" and objected.props["replyBy"] == date(2026, 12, 21)
    with pytest.raises(StepRefused) as late:
        object_to(RULES, NOTIFIED, date(2026, 12, 4))
    assert late.value.reason == "statement-closed"
    held = Case("OBJECTED", "s", "SERIOUS_DISHONESTY")
    assert answer(held, upheld=True).status == "WITHDRAWN"
    assert answer(held, upheld=False).status == "NOTIFIED"
    with pytest.raises(StepRefused) as wrong:
        answer(NOTIFIED, upheld=True)
    assert wrong.value.code == "CONFLICT"


def test_repair_only_after_the_minimum() -> None:
    listed = Case("LISTED", "s", "SERIOUS_DISHONESTY", repairable_from=date(2027, 12, 4))
    with pytest.raises(StepRefused) as early:
        repair(listed, date(2027, 12, 3))
    assert early.value.reason == "too-early"
    assert repair(listed, date(2027, 12, 4)).status == "ENDED"


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("MALICE: {MINOR: DISHONEST,", "MALICE: {MINOR: BANNED,", "outcomes.MALICE.MINOR"),
        ("{min_months: 12, max_months: 36}", "{min_months: 40, max_months: 36}", "min_months"),
        ("statement_working_days: 5", "statement_working_days: -1", "statement_working_days"),
        ("DECIDE: [PROPOSE]", "DECIDE: []", "four_eyes.DECIDE"),  # below the floor
        ("ANSWER: [PROPOSE, NOTIFY]", "ANSWER: [PROPOSE]", "four_eyes.ANSWER"),
        ("DECIDE: [PROPOSE]", "DECIDE: [PROPOSE, SIGN]", "four_eyes.DECIDE"),
        ("DECIDE: [PROPOSE]", "DECIDE: [PROPOSE]\n  AUDIT: [DECIDE]", "four_eyes.AUDIT"),
    ],
)
def test_bad_files_are_refused_with_the_entry_named(old: str, new: str, named: str) -> None:
    with pytest.raises(PolicyError, match=named):
        parse_rules(edited(DETERMINATION_FILE, old, new))
