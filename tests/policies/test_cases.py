"""cases.yaml: a transfer's deadlines fall on the working days Decree 310 and the department's
rule give, the documents a case holds decide the duty left open, and a wrong edit is refused by
name."""

from __future__ import annotations

from datetime import date

import pytest

from policies.cases import CASES_FILE, default_cases, parse_cases
from policies.credit.measures import default_measures
from policies.loader import PolicyError
from tests.policies.edited import edited

RULES = default_cases()
KINDS = default_measures().partner_kinds


def test_every_duty_cites_its_source_and_ends_with_a_known_document() -> None:
    assert RULES.duties, "cases.yaml sets no duty"
    for kind, duty in RULES.duties.items():
        assert kind in RULES.documents
        assert duty.expects <= set(RULES.documents)
        assert "号" in duty.deadline.source or "本厅" in duty.deadline.source


@pytest.mark.parametrize(
    ("documents", "duty", "due"),
    [
        # Approved on Wednesday Sep 30: 24 hours is one working day, and National Day
        # (Oct 1-7) is not one, so the transfer is due Thursday Oct 8.
        ([("TRANSFER_APPROVAL", date(2026, 9, 30))], "TRANSFER_APPROVAL", date(2026, 10, 8)),
        # Transferred Friday Feb 13: the police's 3 days are Sat 14 (worked), Tue 24, Wed 25.
        ([("TRANSFER", date(2026, 2, 13))], "TRANSFER", date(2026, 2, 25)),
        # The police filed it: the department follows up every 30 working days.
        (
            [("TRANSFER", date(2026, 3, 2)), ("FILING_NOTICE", date(2026, 3, 4))],
            "FILING_NOTICE",
            date(2026, 4, 16),
        ),
    ],
)
def test_the_open_duty_follows_the_latest_document(
    documents: list[tuple[str, date]], duty: str, due: date
) -> None:
    current = RULES.duty_of(documents)
    assert current is not None
    assert (current.duty.after, current.due) == (duty, due)


def test_an_expected_answer_ends_the_duty_and_a_judgment_ends_the_follow_up() -> None:
    assert RULES.duty_of([("DECISION", date(2026, 3, 1))]) is None
    reconsidered = [
        ("TRANSFER", date(2026, 3, 2)),
        ("NON_FILING_NOTICE", date(2026, 3, 5)),
        ("RECONSIDERATION_REQUEST", date(2026, 3, 6)),
        ("RECONSIDERATION_DECISION", date(2026, 3, 10)),
    ]
    assert RULES.duty_of(reconsidered) is None
    judged = [("FILING_NOTICE", date(2026, 3, 4)), ("JUDGMENT", date(2026, 9, 1))]
    assert RULES.duty_of(judged) is None
    # Out of order on arrival, in order of issue: the judgment still ends the follow-up.
    assert RULES.duty_of(list(reversed(judged))) is None


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("party: POLICE", "party: BANK", "duties.TRANSFER.party"),
        ("expects: [TRANSFER]", "expects: [LETTER]", "duties.TRANSFER_APPROVAL.expects"),
        ("kinds: [JUDICIAL, LAND_MINING]", "kinds: [POLICE]", "reminders.kinds"),
        ("UPHELD: {name: 维持原处理结果或依法判决, counts: true}",
         "UPHELD: {name: 维持, counts: false}", "outcomes.UPHELD.counts"),
        ("counts: true}", "counts: true, ends_listings: true}", "outcomes.UPHELD.ends_listings"),
        ("ends_listings: true}", "ends_listings: yes please}", "outcomes.OVERTURNED"),
        ("types: [application/pdf]", "types: [application/zip]", "file.types"),
        ("      days: 3\n      calendar: working", "      days: 3\n      calendar: lunar",
         "duties.TRANSFER_REPORT.deadline.calendar"),
    ],
)  # fmt: skip
def test_a_wrong_edit_is_refused_by_name(old: str, new: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem.replace(".", r"\.")):
        parse_cases(edited(CASES_FILE, old, new), KINDS)


def test_only_an_overturned_case_ends_the_listings_on_its_records() -> None:
    """A dismissed transfer leaves the department's decision standing; an overturned one
    takes away what a listing rests on."""
    assert not RULES.outcomes["UPHELD"].ends_listings and RULES.outcomes["UPHELD"].counts
    assert not RULES.outcomes["DISMISSED"].ends_listings
    assert RULES.outcomes["OVERTURNED"].ends_listings and not RULES.outcomes["OVERTURNED"].counts
