"""policies/associations.yaml: the shipped associations load, each action is a catalogue item and
one of its tiers, and a bad edit is refused by name at load."""

from __future__ import annotations

import pytest

from policies.associations import (
    ASSOCIATIONS_FILE,
    default_associations,
    member_scope,
    parse_associations,
)
from policies.loader import PolicyError
from tests.policies.edited import edited


def test_the_shipped_associations_and_actions() -> None:
    rules = default_associations()
    assert set(rules.associations) >= {"XH-CHDL", "XH-DZKC"}
    assert {a.code: a.tier for a in rules.actions.values()} == {
        "WARNING": "MINOR", "CRITICISM": "GENERAL", "EXPULSION": "SERIOUS",
    }  # fmt: skip
    assert [a.code for a in rules.actions.values() if a.ends_membership] == ["EXPULSION"]
    assert rules.get("NMG152201") is None  # a unit's code is no association


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("item: ASSOCIATION_DISCIPLINE, tier: MINOR", "item: NO_SUCH_ITEM, tier: MINOR",
         "is not in policies/catalogue.yaml"),
        ("item: ASSOCIATION_DISCIPLINE, tier: MINOR", "item: COMMITMENT_BREACH, tier: MINOR",
         "has tiers GENERAL, SERIOUS"),
        ("  XH-CHDL:", "  NMG152201:", "a code is XH-"),
        ("name: 内蒙古自治区测绘地理信息学会", "name: '  '", "name: a non-empty text"),
        ("    items: [ASSOCIATION_DISCIPLINE]", "    items: [ADMIN_PENALTY]", "no action files"),
        ("ends_membership: true", "ends_membership: yes please", "true or false"),
    ],
)  # fmt: skip
def test_a_bad_edit_is_refused_by_name(old: str, new: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        parse_associations(edited(ASSOCIATIONS_FILE, old, new))


def test_an_association_reads_its_members_as_a_shared_partner_and_nothing_pending() -> None:
    scope = member_scope()
    assert scope.readable("SHARED", "152201", None)
    assert not scope.readable("RESTRICTED", "152201", "NMG152201")
    assert not scope.pending_readable("152201", "NMG152201")
