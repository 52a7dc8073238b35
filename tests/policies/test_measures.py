"""The joint-punishment catalogue: what a listing asks of which partners, and the file's checks."""

from __future__ import annotations

import random

import pytest

from policies.credit.measures import (
    MEASURES_FILE,
    default_measures,
    parse_measures,
)
from policies.loader import PolicyError
from tests.policies.edited import edited


def test_a_serious_listing_reaches_every_kind_but_the_courts() -> None:
    catalogue = default_measures()
    kinds = {m.partner_kind for m in catalogue.for_listing("SERIOUS_DISHONESTY")}
    assert kinds == {
        "PROCUREMENT",
        "BIDDING",
        "BANK",
        "LAND_MINING",
        "DEPARTMENT",
        "CREDIT_AGENCY",
        "REGIONAL_CREDIT_PLATFORM",
        "ASSOCIATION",  # an association hears of its own members' listings only
    }
    abnormal = {m.code for m in catalogue.for_listing("ABNORMAL_OPERATION")}
    assert abnormal == {
        "LOAN_REVIEW",
        "MINING_RIGHT_BARRED",
        "KEY_INSPECTION",
        "CREDIT_PLATFORM_PUBLISHED",
        "ASSOCIATION_DISCIPLINE_NOTED",
    }


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rules = default_measures().delivery
    rng = random.Random(1)
    waits = [rules.backoff(n, rng) for n in range(1, 12)]
    for attempts, wait in enumerate(waits, start=1):
        ceiling = min(rules.backoff_max_seconds, rules.backoff_seconds * 2 ** (attempts - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len({round(w, 6) for w in waits}) == len(waits)  # jittered, not lock-step


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("partner_kind: PROCUREMENT", "partner_kind: POLICE"), "measures.PROCUREMENT_EXCLUDED"),
        (("[SERIOUS_DISHONESTY, DISHONEST_JUDGMENT_DEBTOR]", "[BLACKLIST]"), "listings"),
        (("max_attempts: 8", "max_attempts: 0"), "delivery.max_attempts"),
        (("version: 1", "version: 2"), "version"),
        (("  BANK: 银行业金融机构", "  bank-kind: 银行业金融机构"), "partner_kinds.bank-kind"),
        (("record_kinds: [REGIONAL_CREDIT_PLATFORM]", "record_kinds: [POLICE]"), "record_kinds"),
    ],
)
def test_bad_files_are_refused_with_the_entry_named(change: tuple[str, str], named: str) -> None:
    with pytest.raises(PolicyError, match=named.replace(".", r"\.")):
        parse_measures(edited(MEASURES_FILE, *change))


def test_the_courts_list_of_judgment_debtors_has_its_measures() -> None:
    codes = {m.code for m in default_measures().for_listing("DISHONEST_JUDGMENT_DEBTOR")}
    assert codes == {
        "PROCUREMENT_EXCLUDED",
        "BID_RESTRICTED",
        "LOAN_REVIEW",
        "LAND_AUCTION_BARRED",
        "SUBSIDY_REFUSED",
        "CREDIT_REPORT_NOTED",
        "CREDIT_PLATFORM_PUBLISHED",
    }
