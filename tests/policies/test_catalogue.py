"""The credit-information catalogue: validated at load, and what it says about a record."""

from __future__ import annotations

import pytest

from demo.seed import generate
from policies.credit.catalogue import (
    CATALOGUE_FILE,
    TIER_BOUNDS,
    check_record,
    default_catalogue,
    parse_catalogue,
)
from policies.loader import PolicyError
from tests.policies.edited import edited


def test_shipped_catalogue_keeps_the_legal_periods() -> None:
    catalogue = default_catalogue()
    assert {"ADMIN_PENALTY", "IDLE_LAND", "MINING_FILING_ABNORMAL", "COURT_JUDGMENT"} <= set(
        catalogue
    )
    assert any(item.tiers for item in catalogue.values())
    for item in catalogue.values():
        for tier, period in item.tiers.items():
            low, high = TIER_BOUNDS[tier]
            assert low <= period.min_months <= period.max_months <= high
    assert catalogue["ADMIN_PENALTY"].publish_within_working_days == 7


def test_every_item_the_seed_produces_is_in_the_catalogue() -> None:
    items = {r["item"] for r in generate(500, 3) if r["kind"] == "CreditRecord"}
    assert items <= set(default_catalogue())


def test_records_are_checked_against_their_item() -> None:
    full = {"title", "decidedOn", "document", "legalBasis"}
    assert check_record("ADMIN_PENALTY", "GENERAL", full) == []
    assert check_record("NOT_AN_ITEM", None, full) == ["unknown catalogue item 'NOT_AN_ITEM'"]
    assert check_record("ADMIN_PENALTY", "GENERAL", {"title", "decidedOn"}) == [
        "ADMIN_PENALTY requires document",
        "ADMIN_PENALTY requires legalBasis",
    ]
    assert check_record("ADMIN_PENALTY", None, full) == [
        "ADMIN_PENALTY takes a tier among MINOR, GENERAL, SERIOUS"
    ]
    assert check_record("COMMENDATION", "SERIOUS", full) == [
        "COMMENDATION is trustworthy: it has no tier"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("SERIOUS: {min: 12, max: 36}", "SERIOUS: {min: 12, max: 48}"), "<= 36 months"),
        (("category: TRUSTWORTHY", "category: GOOD"), "category must be"),
        (("disclosure: SHARED", "disclosure: SECRET"), "disclosure class"),
        (("requires: [title, decidedOn]", "requires: [title, colour]"), "requires lists"),
        (("      MINOR: {min: 0, max: 3}", "      TINY: {min: 0, max: 3}"), "unknown tier"),
    ],
)
def test_a_bad_catalogue_is_refused(change: tuple[str, str], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_catalogue(edited(CATALOGUE_FILE, *change))
