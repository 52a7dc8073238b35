"""Review before publication (policies/credit/review.py and review.yaml): pure state transitions."""

from __future__ import annotations

import pytest

from policies.credit.review import (
    REVIEW_FILE,
    RecordState,
    ReviewRefused,
    ReviewRules,
    approve,
    default_rules,
    parse_rules,
    return_record,
)
from policies.loader import PolicyError

RULES = """\
version: 1
approvals:
  default: 1
  SERIOUS: 2
return_reason:
  min_chars: 4
  max_chars: 500
"""


def pending(
    tier: str | None = "GENERAL", approvals: tuple[str, ...] = (), status: str = "PENDING"
) -> RecordState:
    return RecordState(status=status, tier=tier, submitted_by="alice", approvals=approvals)


def refused(exc: pytest.ExceptionInfo[ReviewRefused]) -> str:
    return exc.value.code


# --- the shipped file -------------------------------------------------------------------------


def test_shipped_rules() -> None:
    rules = default_rules()
    assert rules == parse_rules(REVIEW_FILE.read_text(encoding="utf-8"))
    assert rules.approvals == {"default": 1, "SERIOUS": 2}
    assert (rules.reason_min, rules.reason_max) == (4, 500)
    assert rules.needed("SERIOUS") == 2
    assert rules.needed("GENERAL") == 1
    assert rules.needed("MINOR") == 1
    assert rules.needed(None) == 1


# --- approve ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", [None, "MINOR", "GENERAL"])
def test_one_approval_publishes_by_default(tier: str | None) -> None:
    outcome = approve(pending(tier), "bob")
    assert outcome.status == "PUBLISHED"
    assert outcome.approvals == ("bob",)


def test_serious_needs_two_distinct_reviewers() -> None:
    first = approve(pending("SERIOUS"), "bob")
    assert first.status == "PENDING"
    assert first.approvals == ("bob",)
    second = approve(pending("SERIOUS", first.approvals), "carol")
    assert second.status == "PUBLISHED"
    assert second.approvals == ("bob", "carol")


def test_same_reviewer_twice_is_a_conflict() -> None:
    with pytest.raises(ReviewRefused) as exc:
        approve(pending("SERIOUS", ("bob",)), "bob")
    assert refused(exc) == "CONFLICT"
    assert "another reviewer" in str(exc.value)


def test_submitter_cannot_approve_own_record() -> None:
    with pytest.raises(ReviewRefused) as exc:
        approve(pending(), "alice")
    assert refused(exc) == "FORBIDDEN"


def test_submitter_cannot_give_the_second_approval_either() -> None:
    with pytest.raises(ReviewRefused) as exc:
        approve(pending("SERIOUS", ("bob",)), "alice")
    assert refused(exc) == "FORBIDDEN"


@pytest.mark.parametrize("status", ["PUBLISHED", "RETURNED", "EXPIRED", "REPAIRED"])
def test_only_pending_records_are_approved(status: str) -> None:
    with pytest.raises(ReviewRefused) as exc:
        approve(pending(status=status), "bob")
    assert refused(exc) == "CONFLICT"
    assert status in str(exc.value)


def test_status_is_checked_before_who_is_asking() -> None:
    # A published record is a conflict even for its submitter.
    with pytest.raises(ReviewRefused) as exc:
        approve(pending(status="PUBLISHED"), "alice")
    assert refused(exc) == "CONFLICT"


def test_rules_can_be_passed_explicitly() -> None:
    strict = ReviewRules({"default": 3}, 1, 10)
    assert approve(pending("MINOR"), "bob", strict).status == "PENDING"
    assert approve(pending("MINOR", ("bob", "carol")), "dave", strict).status == "PUBLISHED"


# --- return -----------------------------------------------------------------------------------


def test_return_with_a_reason_clears_approvals() -> None:
    outcome = return_record(pending("SERIOUS", ("bob",)), "carol", "document number is wrong")
    assert outcome.status == "RETURNED"
    assert outcome.approvals == ()


@pytest.mark.parametrize("reason", ["", "   ", "abc", "  ab  ", "x" * 501])
def test_return_reason_must_be_4_to_500_characters(reason: str) -> None:
    with pytest.raises(ReviewRefused) as exc:
        return_record(pending(), "bob", reason)
    assert refused(exc) == "BAD_USER_INPUT"
    assert "4-500" in str(exc.value)


@pytest.mark.parametrize("reason", ["abcd", "  abcd  ", "缺少文号", "x" * 500])
def test_return_reason_at_the_bounds_is_accepted(reason: str) -> None:
    # Counted in characters after stripping, so four Chinese characters are enough.
    assert return_record(pending(), "bob", reason).status == "RETURNED"


def test_submitter_cannot_return_own_record() -> None:
    with pytest.raises(ReviewRefused) as exc:
        return_record(pending(), "alice", "changed my mind")
    assert refused(exc) == "FORBIDDEN"


def test_only_pending_records_are_returned() -> None:
    with pytest.raises(ReviewRefused) as exc:
        return_record(pending(status="RETURNED"), "bob", "still wrong")
    assert refused(exc) == "CONFLICT"


def test_a_refused_step_is_checked_before_the_reason() -> None:
    # Wrong status wins over a too-short reason: the caller learns the real obstacle.
    with pytest.raises(ReviewRefused) as exc:
        return_record(pending(status="PUBLISHED"), "bob", "")
    assert refused(exc) == "CONFLICT"


# --- parse_rules ------------------------------------------------------------------------------


def test_parse_rules_reads_a_valid_file() -> None:
    rules = parse_rules(RULES)
    assert rules == ReviewRules({"default": 1, "SERIOUS": 2}, 4, 500)


def test_parse_rules_accepts_every_known_tier() -> None:
    text = RULES.replace("  SERIOUS: 2", "  MINOR: 1\n  GENERAL: 2\n  SERIOUS: 5")
    assert parse_rules(text).approvals == {"default": 1, "MINOR": 1, "GENERAL": 2, "SERIOUS": 5}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list\n", "version: 1"),
        (RULES.replace("version: 1", "version: 2"), "version: 1"),
        (RULES + "extra: 1\n", "expected keys"),
        (RULES.replace("  default: 1\n", ""), "needs a default"),
        (RULES.replace("  SERIOUS: 2", "  FATAL: 2"), "unknown tiers ['FATAL']"),
        (RULES.replace("  SERIOUS: 2", "  serious: 2"), "unknown tiers ['serious']"),
        (RULES.replace("  default: 1", "  default: 0"), "approvals.default"),
        (RULES.replace("  SERIOUS: 2", "  SERIOUS: 6"), "approvals.SERIOUS"),
        (RULES.replace("  SERIOUS: 2", "  SERIOUS: -1"), "approvals.SERIOUS"),
        (RULES.replace("  SERIOUS: 2", "  SERIOUS: 1.5"), "approvals.SERIOUS"),
        (RULES.replace("  SERIOUS: 2", "  SERIOUS: '2'"), "approvals.SERIOUS"),
        (RULES.replace("  SERIOUS: 2", "  SERIOUS: true"), "approvals.SERIOUS"),
        (RULES.replace("  max_chars: 500\n", ""), "min_chars and max_chars"),
        (RULES + "  colour: red\n", "min_chars and max_chars"),
        (RULES.replace("min_chars: 4", "min_chars: 0"), "1 <= min_chars"),
        (RULES.replace("max_chars: 500", "max_chars: 3"), "1 <= min_chars"),
        (RULES.replace("max_chars: 500", "max_chars: 2001"), "1 <= min_chars"),
        (RULES.replace("min_chars: 4", "min_chars: '4'"), "1 <= min_chars"),
    ],
)
def test_parse_rules_refuses_bad_files(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as exc:
        parse_rules(text, "test.yaml")
    assert message in str(exc.value)


def test_parse_rules_names_the_source() -> None:
    with pytest.raises(PolicyError, match=r"^custom\.yaml: "):
        parse_rules(RULES.replace("  default: 1\n", ""), "custom.yaml")


def test_parse_rules_refuses_boolean_reason_bounds() -> None:
    with pytest.raises(PolicyError):
        parse_rules(RULES.replace("min_chars: 4", "min_chars: true"))


def test_parse_rules_refuses_non_text_tier_names() -> None:
    with pytest.raises(PolicyError):
        parse_rules(RULES.replace("  SERIOUS: 2", "  SERIOUS: 2\n  1: 2\n  FOO: 1"))
