"""rights.yaml: each deadline falls on the working day the holiday calendar gives, a filing's
attachments are judged by their bytes, repair stays free, and a wrong edit is refused by name."""

from __future__ import annotations

from datetime import date

import pytest

from policies.loader import PolicyError
from policies.rights import RIGHTS_FILE, Deadline, default_rights, parse_rights, sniff
from tests.policies.edited import edited

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
EXE = b"MZ\x90\x00" + b"\0" * 60


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Spring Festival 2026: Feb 15-23 off, Saturday Feb 14 and Saturday Feb 28 worked.
        (date(2026, 2, 12), 3, date(2026, 2, 24)),  # Fri 13, Sat 14 (worked), then Tue 24
        (date(2026, 2, 13), 3, date(2026, 2, 25)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the working Saturday counts
        (date(2026, 2, 26), 2, date(2026, 2, 28)),  # Fri 27, Sat 28 (worked)
        # National Day 2026: Oct 1-7 off, Sunday Sep 20 and Saturday Oct 10 worked.
        (date(2026, 9, 29), 2, date(2026, 10, 8)),  # Wed 30, then Thu Oct 8
        (date(2026, 9, 29), 15, date(2026, 10, 26)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Fri 18 -> the working Sunday
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Fri 9 -> the working Saturday
    ],
)
def test_working_day_deadlines_skip_holidays_and_count_worked_weekends(
    start: date, days: int, due: date
) -> None:
    deadline = Deadline(days, "working", "test")
    assert deadline.due(start) == due
    assert not deadline.overdue(start, due)
    assert deadline.overdue(start, date.fromordinal(due.toordinal() + 1))


def test_natural_day_deadlines_ignore_the_calendar() -> None:
    assert Deadline(15, "natural", "test").due(date(2026, 2, 10)) == date(2026, 2, 25)


def test_the_shipped_rules_name_a_source_for_every_deadline() -> None:
    rules = default_rights()
    deadlines = [
        rules.objection_accept,
        rules.objection_decide,
        rules.complaint_accept,
        rules.complaint_answer,
        rules.complaint_escalate_again,
        rules.repair_accept,
        rules.repair_decide,
        rules.repair_stop_publishing,
    ]
    assert deadlines
    for deadline in deadlines:
        assert deadline.days > 0 and deadline.source.strip()
    assert rules.objection_accept.calendar == "working"
    assert rules.repair_decide.calendar == "working"
    assert rules.repair_proofs["SERIOUS_DISHONESTY"] >= {"FULFILMENT", "COMMITMENT"}


def test_attachments_are_judged_by_their_bytes_not_their_names() -> None:
    rules = default_rights().attachments
    assert sniff(PDF) == "application/pdf" and sniff(PNG) == "image/png" and sniff(EXE) is None
    assert rules.refusal([("proof.pdf", PDF), ("photo.png", PNG)]) is None
    assert "not one of" in (rules.refusal([("proof.pdf", EXE)]) or "")
    assert "empty" in (rules.refusal([("proof.pdf", b"")]) or "")
    too_big = PDF + b"\0" * rules.max_bytes
    assert "over" in (rules.refusal([("big.pdf", too_big)]) or "")
    many = [(f"p{i}.pdf", PDF) for i in range(rules.max_count + 1)]
    assert "at most" in (rules.refusal(many) or "")


def test_text_lengths_are_counted_without_surrounding_space() -> None:
    length = default_rights().objection_reasons
    assert length.check("  " + "x" * (length.min_chars - 1) + "  ") is not None
    assert length.check("x" * length.min_chars) is None
    assert length.check("x" * (length.max_chars + 1)) is not None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  fee: 0", "  fee: 100", "free of charge"),
        ("    days: 3\n    calendar: working", "    days: 3\n    calendar: lunar", "working or"),
        ("    days: 3\n", "    days: 0\n", "objection.accept.days"),
        ("max_count: 5", "max_count: -1", "attachments.max_count"),
        ("types: [application/pdf", "types: [application/x-msdownload", "attachments.types"),
        (
            "    ABNORMAL_OPERATION: [FULFILMENT, COMMITMENT]",
            "    ABNORMAL_OPERATION: [MONEY]",
            "repair.proofs.ABNORMAL_OPERATION",
        ),
        ("commitment:\n", "commitment:\n  fee: 1\n", "unknown key fee"),
    ],
)
def test_a_wrong_edit_is_refused_by_name(old: str, new: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_rights(edited(RIGHTS_FILE, old, new))
