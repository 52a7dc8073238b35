"""Beneficial ownership and ultimate control, checked against hand-computed answers.

Pure: no database. The planted circular holding of demo.planted comes with exact Fractions worked
out by hand, so the solver must reproduce them to the last digit.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from itertools import pairwise

import pytest

from demo.planted import HOLDING
from graph.investigate.ownership import (
    Control,
    Holding,
    Owner,
    beneficial_owners,
    ultimate_controller,
)

PERSONS = frozenset(HOLDING.persons)  # labels Q, R, T
COMPANIES = tuple(HOLDING.companies)  # labels C1, C2, C3
# Shares are stored as floats with four decimals; str() recovers the decimal the seed meant.
PLANTED = [Holding(h, c, Fraction(str(share))) for h, c, share in HOLDING.shares]
SHARE = {(h.holder, h.company): h.share for h in PLANTED}


def is_person(key: str) -> bool:
    return key in PERSONS


def product(chain: tuple[str, ...]) -> Fraction:
    result = Fraction(1)
    for holder, company in pairwise(chain):
        share = SHARE[holder, company]
        assert share is not None
        result *= share
    return result


def by_key(owners: list[Owner]) -> dict[str, Fraction]:
    return {owner.key: owner.share for owner in owners}


# --- the planted circular holding ----------------------------------------------------------------


@pytest.mark.parametrize("company", COMPANIES)
def test_planted_beneficial_shares_are_exact(company: str) -> None:
    owners = beneficial_owners(company, PLANTED, is_person, threshold=Fraction(0))
    expected = {person: HOLDING.beneficial[person][company] for person in PERSONS}
    assert by_key(owners) == expected  # all three, below any threshold, as exact Fractions
    assert all(type(owner.share) is Fraction for owner in owners)


def test_planted_figures_are_the_documented_ones() -> None:
    """Spot-check the headline figure so a changed seed cannot pass silently."""
    owners = by_key(beneficial_owners("C1", PLANTED, is_person, threshold=Fraction(0)))
    assert owners["Q"] == Fraction(125, 232)  # 0.5 / (1 − 0.6·0.4·0.3)


@pytest.mark.parametrize("company", COMPANIES)
def test_planted_owners_sum_to_the_whole_company(company: str) -> None:
    owners = beneficial_owners(company, PLANTED, is_person, threshold=Fraction(0))
    assert {owner.key for owner in owners} == PERSONS
    assert sum(owner.share for owner in owners) == 1


@pytest.mark.parametrize("company", COMPANIES)
def test_threshold_keeps_owners_of_a_quarter_or_more_largest_first(company: str) -> None:
    owners = beneficial_owners(company, PLANTED, is_person)  # default threshold 1/4
    expected = sorted(
        (
            (person, share[company])
            for person, share in HOLDING.beneficial.items()
            if share[company] >= Fraction(1, 4)
        ),
        key=lambda item: (-item[1], item[0]),
    )
    assert [(owner.key, owner.share) for owner in owners] == expected


def test_threshold_on_c1_by_hand() -> None:
    # Q 125/232 ≈ 0.539, R 31/116 ≈ 0.267 stay; T 45/232 ≈ 0.194 falls below a quarter.
    assert [owner.key for owner in beneficial_owners("C1", PLANTED, is_person)] == ["Q", "R"]


def test_threshold_is_inclusive() -> None:
    owners = beneficial_owners("C1", PLANTED, is_person, threshold=Fraction(31, 116))
    assert [owner.key for owner in owners] == ["Q", "R"]


def test_chains_of_q_in_c2_go_through_c1() -> None:
    (q,) = [o for o in beneficial_owners("C2", PLANTED, is_person) if o.key == "Q"]
    assert ("Q", "C1", "C2") in q.chains
    assert product(("Q", "C1", "C2")) == Fraction(3, 10)


def test_chains_are_ordered_by_product() -> None:
    (r,) = [o for o in beneficial_owners("C2", PLANTED, is_person) if o.key == "R"]
    # Direct 0.4 first, then 0.2 · 0.6 = 0.12 through C1; the cycle's extra turns are in the
    # share (65/116 > 0.52) but are not chains of their own.
    assert r.chains == (("R", "C2"), ("R", "C1", "C2"))
    assert r.share > sum(product(chain) for chain in r.chains)


@pytest.mark.parametrize("company", COMPANIES)
def test_chains_are_simple_paths_from_owner_to_target(company: str) -> None:
    owners = beneficial_owners(company, PLANTED, is_person, threshold=Fraction(0))
    assert owners, company
    for owner in owners:
        assert owner.chains
        for chain in owner.chains:
            assert len(set(chain)) == len(chain)
            assert (chain[0], chain[-1]) == (owner.key, company)
            assert all(pair in SHARE for pair in pairwise(chain))
        products = [product(chain) for chain in owner.chains]
        assert products == sorted(products, reverse=True)


def test_max_chains_keeps_the_largest() -> None:
    holdings = [
        Holding("P", "A1", Fraction(1, 10)),
        Holding("P", "A2", Fraction(3, 10)),
        Holding("P", "A3", Fraction(2, 10)),
        *(Holding(a, "B", Fraction(3, 10)) for a in ("A1", "A2", "A3")),
    ]
    (owner,) = beneficial_owners("B", holdings, lambda k: k == "P", Fraction(0), max_chains=2)
    assert owner.share == Fraction(18, 100)
    assert owner.chains == (("P", "A2", "B"), ("P", "A3", "B"))
    (owner,) = beneficial_owners("B", holdings, lambda k: k == "P", Fraction(0), max_chains=0)
    assert owner.chains == ()


# Control follows votes, ownership follows money: the seed's ``controllers`` mapping names the
# person with the largest beneficial share (R for C2: 65/116 of its value reaches R), while the
# ultimate controller follows majorities upward. C1 holds 0.6 of C2, so whoever controls C1
# controls C2; nobody holds a majority of C1 directly (Q 0.5, R 0.2, C3 0.3), but Q's beneficial
# share of C1 is 125/232 > 1/2. Hence Q controls C2 although R owns more of it.
@pytest.mark.parametrize(
    ("company", "expected"),
    [
        ("C3", Control("T", ("T", "C3"), "majority")),  # T holds 0.6 directly
        ("C1", Control("Q", ("Q", "C1"), "beneficial-majority")),  # 125/232 > 1/2
        ("C2", Control("Q", ("Q", "C1", "C2"), "beneficial-majority")),  # via C1's 0.6
    ],
)
def test_planted_ultimate_controllers(company: str, expected: Control) -> None:
    assert ultimate_controller(company, PLANTED, is_person) == expected


def test_control_and_ownership_disagree_on_c2() -> None:
    assert HOLDING.controllers["C2"] == "R"  # the largest beneficial owner...
    assert ultimate_controller("C2", PLANTED, is_person).controller == "Q"  # ...is not in control


# --- small hand-made graphs -------------------------------------------------------------------


def test_two_level_chain() -> None:
    holdings = [Holding("P", "A", Fraction(8, 10)), Holding("A", "B", Fraction(6, 10))]
    owners = beneficial_owners("B", holdings, lambda k: k == "P")
    assert owners == [Owner("P", Fraction(48, 100), (("P", "A", "B"),))]
    assert ultimate_controller("B", holdings, lambda k: k == "P") == Control(
        "P", ("P", "A", "B"), "majority"
    )


def test_explicit_control_overrides_shares_but_not_ownership() -> None:
    people = {"P", "X"}
    holdings = [
        Holding("P", "A", Fraction(1)),
        Holding("A", "B", Fraction(6, 10)),
        Holding("X", "B", None),  # e.g. a voting agreement: control without a share
    ]
    assert ultimate_controller("B", holdings, people.__contains__) == Control(
        "X", ("X", "B"), "explicit"
    )
    assert [o.key for o in beneficial_owners("B", holdings, people.__contains__)] == ["P"]


def test_explicit_control_by_a_company_is_climbed() -> None:
    holdings = [Holding("A", "B", None), Holding("P", "A", Fraction(7, 10))]
    assert ultimate_controller("B", holdings, lambda k: k == "P") == Control(
        "P", ("P", "A", "B"), "majority"
    )


def test_contested_explicit_control_means_nobody() -> None:
    holdings = [Holding("X", "B", None), Holding("Y", "B", None)]
    assert ultimate_controller("B", holdings, {"X", "Y"}.__contains__) == Control(
        None, ("B",), "none"
    )


def test_closed_cycle_of_full_holdings_is_singular() -> None:
    holdings = [Holding("A", "B", Fraction(1)), Holding("B", "A", Fraction(1))]
    with pytest.raises(ValueError, match="singular"):
        beneficial_owners("A", holdings, lambda k: False)


def test_open_cycle_sums_its_geometric_series() -> None:
    # A and B hold 0.6 of each other, P holds the other 0.4 of both: every chain ends at P,
    # so P owns all of A: 0.4·(1 + 0.6)/(1 − 0.36) = 1.
    holdings = [
        Holding("A", "B", Fraction(6, 10)),
        Holding("B", "A", Fraction(6, 10)),
        Holding("P", "A", Fraction(4, 10)),
        Holding("P", "B", Fraction(4, 10)),
    ]
    owners = beneficial_owners("A", holdings, lambda k: k == "P")
    assert owners == [Owner("P", Fraction(1), (("P", "A"), ("P", "B", "A")))]


def test_control_climb_that_revisits_a_node_means_nobody() -> None:
    # Same graph: B holds a majority of A and A of B, so the boards elect each other. P owns all
    # the money but has only 0.4 of the votes anywhere; the climb A → B → A stops, uncontrolled.
    holdings = [
        Holding("A", "B", Fraction(6, 10)),
        Holding("B", "A", Fraction(6, 10)),
        Holding("P", "A", Fraction(4, 10)),
        Holding("P", "B", Fraction(4, 10)),
    ]
    assert ultimate_controller("A", holdings, lambda k: k == "P") == Control(
        None, ("B", "A"), "none"
    )


def test_dispersed_holders_mean_nobody_controls() -> None:
    people = {"X", "Y", "Z"}
    holdings = [
        Holding("A", "B", Fraction(6, 10)),
        *(Holding(p, "A", Fraction(1, 3)) for p in sorted(people)),
    ]
    # B climbs to A by majority, then stops: no holder of A has more than half, directly or not.
    assert ultimate_controller("B", holdings, people.__contains__) == Control(
        None, ("A", "B"), "none"
    )
    assert ultimate_controller("Q", [], people.__contains__) == Control(None, ("Q",), "none")


def test_state_body_is_a_terminal_owner_and_controller() -> None:
    sasac = "STATE:内蒙古自治区国资委"
    holdings = [
        Holding(sasac, "G", Fraction(7, 10)),
        Holding("G", "S", Fraction(51, 100)),
        Holding("P", "S", Fraction(49, 100)),
        Holding("P", "G", Fraction(3, 10)),
    ]

    def terminal(key: str) -> bool:
        return key in {sasac, "P"}

    assert by_key(beneficial_owners("S", holdings, terminal)) == {
        "P": Fraction(49, 100) + Fraction(3, 10) * Fraction(51, 100),
        sasac: Fraction(7, 10) * Fraction(51, 100),
    }
    assert ultimate_controller("S", holdings, terminal) == Control(
        sasac, (sasac, "G", "S"), "majority"
    )


def test_beneficial_majority_chain_avoids_the_climb() -> None:
    # B is held 0.6 by A; A has no majority holder, but P reaches 0.75 · 5/7 > 1/2 of A, through
    # H (0.35 · 0.5) and, more, round through B (0.4 · 0.5). The chain must not re-enter B.
    holdings = [
        Holding("A", "B", Fraction(6, 10)),
        Holding("P", "B", Fraction(4, 10)),
        Holding("B", "A", Fraction(1, 2)),
        Holding("H", "A", Fraction(1, 2)),
        Holding("P", "H", Fraction(35, 100)),
        Holding("Y", "H", Fraction(65, 100)),
    ]
    control = ultimate_controller("B", holdings, {"P", "Y"}.__contains__)
    assert control == Control("P", ("P", "H", "A", "B"), "beneficial-majority")


def test_holdings_may_be_a_one_shot_iterator() -> None:
    def stream() -> Iterator[Holding]:
        yield from PLANTED

    assert ultimate_controller("C2", stream(), is_person).controller == "Q"
    assert len(beneficial_owners("C1", stream(), is_person)) == 2


def test_share_out_of_range_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"not in \[0, 1\]"):
        beneficial_owners("B", [Holding("P", "B", Fraction(3, 2))], lambda k: k == "P")


def test_treasury_shares_are_shared_out_to_the_other_holders() -> None:
    # A holds 1/5 of itself (treasury shares): the outside holders own all of A between them,
    # each in proportion, i.e. P's 3/5 becomes 3/5 / (1 − 1/5) = 3/4.
    holdings = [
        Holding("A", "A", Fraction(1, 5)),
        Holding("P", "A", Fraction(3, 5)),
        Holding("X", "A", Fraction(1, 5)),
    ]
    owners = beneficial_owners("A", holdings, {"P", "X"}.__contains__, Fraction(0))
    assert owners == [
        Owner("P", Fraction(3, 4), (("P", "A"),)),
        Owner("X", Fraction(1, 4), (("X", "A"),)),
    ]
    with pytest.raises(ValueError, match="singular"):
        beneficial_owners("A", [Holding("A", "A", Fraction(1))], lambda k: False)
