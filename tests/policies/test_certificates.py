"""certificates.yaml: who may obtain a credit certificate, how long it runs, what revokes it;
a wrong edit is refused by name."""

from __future__ import annotations

from datetime import date

import pytest

from policies.credit.certificates import (
    CERTIFICATES_FILE,
    default_certificate_rules,
    parse_certificate_rules,
)
from policies.loader import PolicyError
from tests.policies.edited import edited


def test_the_shipped_rules_give_a_year_to_the_a_classes() -> None:
    rules = default_certificate_rules()
    assert rules.grades == ("AAA", "AA", "A")
    assert [g for g in ("AAA", "A", "BBB", "C", None) if rules.eligible(g)] == ["AAA", "A"]
    assert "SERIOUS_DISHONESTY" in rules.revoking_listings
    # twelve calendar months: the last valid day is the day before the anniversary
    assert rules.expires(date(2026, 11, 27)) == date(2027, 11, 26)
    assert rules.expires(date(2024, 2, 29)) == date(2025, 2, 27)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("grades: [AAA, AA, A]", "grades: [AAA, D]", "grades are some of"),
        ("grades: [AAA, AA, A]", "grades: []", "grades are some of"),
        ("valid_months: 12", "valid_months: 0", "valid_months: a whole number from 1 to 36"),
        ("valid_months: 12", "valid_months: true", "valid_months: a whole number"),
        ("DISHONEST_JUDGMENT_DEBTOR]", "BLACKLIST]", "revoking_listings are some of"),
        ("valid_months: 12", "valid_months: 12\nvalid_days: 3", "valid_days"),
    ],
)
def test_a_wrong_edit_is_refused_by_name(old: str, new: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as refused:
        parse_certificate_rules(edited(CERTIFICATES_FILE, old, new))
    assert str(refused.value).startswith("certificates.yaml")
