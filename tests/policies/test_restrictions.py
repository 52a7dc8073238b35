"""The record-restriction rules load, and a wrong file is refused with the entry named."""

from __future__ import annotations

from datetime import date

import pytest

from policies.credit.restrictions import (
    default_restrictions,
    parse_restrictions,
    restrictions_for,
)
from policies.loader import PolicyError


def test_idle_land_and_contract_breaches_bar_land_auctions_for_their_publication() -> None:
    rules = default_restrictions()
    assert set(rules) == {"LAND_AUCTION_BARRED"}
    for item in ("IDLE_LAND", "LAND_CONTRACT_BREACH"):
        assert [r.code for r in restrictions_for(item, "GENERAL")] == ["LAND_AUCTION_BARRED"]
    assert restrictions_for("ADMIN_PENALTY", "SERIOUS") == []
    barred = rules["LAND_AUCTION_BARRED"]
    assert barred.until(date(2026, 1, 5), date(2027, 1, 5)) == date(2027, 1, 5)


def test_months_never_outlast_publication() -> None:
    text = """version: 1
restrictions:
  LAND_AUCTION_BARRED: {name: 限制, items: [IDLE_LAND], tiers: [SERIOUS], until: {months: 6}}
"""
    rule = parse_restrictions(text)["LAND_AUCTION_BARRED"]
    assert not rule.applies("IDLE_LAND", "GENERAL") and rule.applies("IDLE_LAND", "SERIOUS")
    assert rule.until(date(2026, 1, 31), date(2029, 1, 31)) == date(2026, 7, 31)
    assert rule.until(date(2026, 1, 31), date(2026, 3, 1)) == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ("NO_SUCH_MEASURE: {name: x, items: [IDLE_LAND], until: publication}", "measures.yaml"),
        ("LAND_AUCTION_BARRED: {name: x, items: [COMMENDATION], until: publication}", "items"),
        ("LAND_AUCTION_BARRED: {name: x, items: [IDLE_LAND], tiers: [MINOR], until: publication}",
         "tiers"),
        ("LAND_AUCTION_BARRED: {name: x, items: [IDLE_LAND], until: forever}", "until"),
        ("LAND_AUCTION_BARRED: {name: x, items: [IDLE_LAND], until: {months: 60}}", "months"),
        ("LAND_AUCTION_BARRED: {items: [IDLE_LAND], until: publication}", "expected"),
    ],
)  # fmt: skip
def test_a_wrong_entry_is_refused_by_name(entry: str, named: str) -> None:
    with pytest.raises(PolicyError, match=named):
        parse_restrictions(f"version: 1\nrestrictions:\n  {entry}\n")
