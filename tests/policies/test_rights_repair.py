"""The repair rules a subject and a unit meet: the proofs per target, the statement and reasons
lengths, deadlines across the 2026 holidays, free of charge, and four eyes on lifting a
listing (pure: no database)."""

from __future__ import annotations

from datetime import date

import pytest

from policies.credit.determination import Case, StepRefused, check_four_eyes, default_rules
from policies.loader import PolicyError
from policies.rights import RIGHTS_FILE, default_rights, parse_rights


def test_a_serious_listing_needs_every_proof_and_the_others_two() -> None:
    proofs = default_rights().repair_proofs
    assert proofs["SERIOUS_DISHONESTY"] == {"FULFILMENT", "COMMITMENT", "TRAINING"}
    assert proofs["ABNORMAL_OPERATION"] == proofs["RECORD"] == {"FULFILMENT", "COMMITMENT"}


def test_statement_and_reasons_have_bounds() -> None:
    rules = default_rights()
    assert rules.repair_statement.check("请修复") is not None  # too short to say anything
    assert rules.repair_statement.check("本公司已缴清罚款并完成整改。") is None
    assert rules.repair_reasons.check("") is not None
    assert rules.repair_reasons.check("材料不全") is None


@pytest.mark.parametrize(
    ("filed", "accept_by", "accepted", "decide_by"),
    [
        (date(2026, 2, 13), date(2026, 2, 24), date(2026, 2, 24), date(2026, 3, 16)),
        (date(2026, 9, 29), date(2026, 10, 8), date(2026, 9, 30), date(2026, 10, 27)),
    ],
)
def test_repair_deadlines_skip_spring_festival_and_national_day(
    filed: date, accept_by: date, accepted: date, decide_by: date
) -> None:
    rules = default_rights()
    assert rules.repair_accept.due(filed) == accept_by
    assert not rules.repair_accept.overdue(filed, accept_by)
    assert rules.repair_accept.overdue(filed, date.fromordinal(accept_by.toordinal() + 1))
    assert rules.repair_decide.due(accepted) == decide_by


def test_a_fee_is_refused_at_load() -> None:
    text = RIGHTS_FILE.read_text(encoding="utf-8")
    assert "  fee: 0" in text
    with pytest.raises(PolicyError, match="free of charge"):
        parse_rights(text.replace("  fee: 0", "  fee: 100"))


def test_whoever_proposed_a_listing_does_not_lift_it() -> None:
    case = Case("LISTED", "p-1", "SERIOUS_DISHONESTY", actors=(("PROPOSE", "p-1"),))
    with pytest.raises(StepRefused) as refused:
        check_four_eyes(default_rules(), case, "REPAIR", "p-1")
    assert refused.value.reason == "four-eyes"
    check_four_eyes(default_rules(), case, "REPAIR", "p-2")
