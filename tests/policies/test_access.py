"""The access policy: validation at load, and truth tables of who reads which row."""

from __future__ import annotations

import itertools

import pytest

from policies.access import POLICY_FILE, default_policy, parse_policy, read_scope
from policies.loader import PolicyError
from policies.principal import Clearance, Principal
from tests.policies.edited import edited

OWN_DIVISION, LEAGUE, OTHER_DIVISION = "152201", "152200", "150102"
OWN_AGENCY = "NMG152201"


def principal(
    role: str, level: str, division: str, clearance: Clearance, purpose: str | None
) -> Principal:
    agency = "BANK-X" if level == "PARTNER" else f"NMG{division}"
    return Principal("sub", "iss", agency, level, division, frozenset({role}), clearance, purpose)


def expected(p: Principal, row_class: Clearance, row_division: str, owner: str) -> bool:
    """The rule of DESIGN.md, restated independently of the implementation."""
    role = next(iter(p.roles))
    role_max = {
        "partner": Clearance.SHARED,
        "investigator": Clearance.CONFIDENTIAL,
    }.get(role, Clearance.RESTRICTED)
    ceiling = min(p.clearance, role_max)
    if row_class > ceiling:
        return False
    if row_class <= Clearance.SHARED:
        return True
    if p.level == "PARTNER":
        return False
    if role == "investigator":
        in_reach = True
    else:
        prefix = {"REGION": "15", "LEAGUE": p.division[:4]}.get(p.level, p.division)
        in_reach = row_division.startswith(prefix) or owner == p.agency
    if row_class == Clearance.RESTRICTED:
        return in_reach
    purpose = (p.purpose or "").startswith("investigation:") and len(p.purpose or "") > 14
    owns = owner == p.agency
    return purpose and (role == "investigator" or owns)


PRINCIPALS = [
    principal(role, level, division, clearance, purpose)
    for role, (level, division), clearance, purpose in itertools.product(
        ["partner", "investigator", "submitter", "reviewer", "admin"],
        [
            ("PARTNER", "150000"),
            ("REGION", "150000"),
            ("LEAGUE", LEAGUE),
            ("BANNER", OWN_DIVISION),
            ("BANNER", OTHER_DIVISION),
        ],
        list(Clearance),
        [None, "loan-review", "investigation:CASE-1"],
    )
    if (level == "PARTNER") == (role == "partner")
]
ROWS = list(
    itertools.product(
        list(Clearance),
        [OWN_DIVISION, OTHER_DIVISION],
        [OWN_AGENCY, "NMG150102", "NMG150000"],
    )
)


@pytest.mark.parametrize(
    "who",
    PRINCIPALS,
    ids=lambda p: f"{next(iter(p.roles))}-{p.level}-{p.division}-{p.clearance.name}-{p.purpose}",
)
def test_truth_table(who: Principal) -> None:
    scope = read_scope(who)
    for row_class, division, owner in ROWS:
        assert scope.readable(row_class, division, owner) == expected(
            who, row_class, division, owner
        ), (row_class.name, division, owner)


def test_partners_never_above_shared_whatever_the_token_says() -> None:
    bank = principal("partner", "PARTNER", "150000", Clearance.CONFIDENTIAL, "investigation:X")
    scope = read_scope(bank)
    assert scope.anywhere == ("PUBLIC", "SHARED") and not scope.local and not scope.owned


def test_pending_rules() -> None:
    submitter = read_scope(
        principal("submitter", "BANNER", OWN_DIVISION, Clearance.RESTRICTED, None)
    )
    reviewer = read_scope(principal("reviewer", "LEAGUE", LEAGUE, Clearance.RESTRICTED, None))
    investigator = read_scope(
        principal("investigator", "REGION", "150000", Clearance.CONFIDENTIAL, "investigation:A")
    )
    assert submitter.pending_own and not submitter.pending_local
    assert reviewer.pending_local and not reviewer.pending_own
    assert not investigator.pending_own and not investigator.pending_local


def test_shipped_policy_loads() -> None:
    policy = default_policy()
    assert policy.field_class("Person", "idNumber") is Clearance.CONFIDENTIAL
    assert policy.roles["partner"].max_clearance is Clearance.SHARED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  partner:\n", "  janitor:\n"), "unknown role"),
        (("idNumber: CONFIDENTIAL", "idNumber: SECRET"), "not a disclosure class"),
        (("    max_clearance: SHARED ", "    max_clearance: RESTRICTED "), "stops at SHARED"),
        (("version: 1", "version: 1\nextra: true"), "unknown key extra"),
        (("  subject: [partner,", "  subject: [plumber,"), "known roles"),
        (("    page_max: 100\n  investigator", "    page_max: 1000\n  investigator"), "1-100"),
    ],
)
def test_a_bad_policy_is_a_start_up_error(change: tuple[str, str], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(edited(POLICY_FILE, *change))
