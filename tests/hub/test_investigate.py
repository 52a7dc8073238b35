"""Investigators on the seeded graph: the planted phoenix, ring and circular holding are found,
partners are refused, and every traversal is in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from graph.seed import PLANTED
from tests.conftest import GraphQLClient, hub_command, mint

EXPOSURE = """query($c: String!, $d: Int) {
  exposure(creditCode: $c, depth: $d) {
    creditCode listing listedSince score phoenix phoenixReason
    paths { kinds weight nodes { kind key name } }
  }
}"""
RINGS = """query($div: String!, $c: String) {
  rings(division: $div, creditCode: $c) { members ties { kind value members } }
}"""


@pytest.fixture
def investigator(api: str, seeded: int) -> GraphQLClient:
    return GraphQLClient(
        api, mint("investigator", agency="NMG150000", purpose="investigation:CASE-7")
    )


def test_exposure_finds_the_planted_phoenix(investigator: GraphQLClient) -> None:
    phoenix = PLANTED.phoenix
    found = investigator.data(EXPOSURE, {"c": phoenix.new_company, "d": 2})["exposure"]
    listed = {e["creditCode"]: e for e in found}  # type: ignore[union-attr]
    hit: dict[str, Any] = listed[phoenix.sanctioned]
    assert hit["phoenix"] is True
    assert hit["listing"] == "SERIOUS_DISHONESTY"
    assert hit["listedSince"] == phoenix.sanction_start
    strongest = hit["paths"][0]
    # new company <-LEGAL_REPRESENTATIVE_OF- person -LEGAL_REPRESENTATIVE_OF-> sanctioned
    assert strongest["kinds"] == ["LEGAL_REPRESENTATIVE_OF", "LEGAL_REPRESENTATIVE_OF"]
    assert strongest["weight"] == pytest.approx(0.81)
    assert [n["kind"] for n in strongest["nodes"]] == ["Subject", "Person", "Subject"]
    # the person is also a shareholder of both: more paths, a higher score than any one path
    assert hit["score"] > strongest["weight"]


def test_the_planted_ring_is_found_whole(investigator: GraphQLClient) -> None:
    ring = PLANTED.ring
    found = investigator.data(RINGS, {"div": "152201", "c": ring.members[2]})["rings"]
    assert len(found) == 1  # type: ignore[arg-type]
    (whole,) = found  # type: ignore[misc]
    assert whole["members"] == sorted(ring.members)
    ties = {(t["kind"], t["value"]) for t in whole["ties"]}
    kinds = {"phones": "Phone", "addresses": "Address", "emails": "Email"}
    assert ties == {(kinds[field], value) for _, _, field, value in ring.links}


def test_hubs_are_not_rings(investigator: GraphQLClient) -> None:
    everything = investigator.data(RINGS, {"div": "150000"})["rings"]
    values = {t["value"] for r in everything for t in r["ties"]}  # type: ignore[union-attr]
    assert PLANTED.hub_address not in values and PLANTED.hub_phone not in values


@pytest.mark.parametrize(
    "query",
    [
        EXPOSURE,
        RINGS,
        '{ mostExposed(division: "152200") { creditCode } }',
    ],
)
def test_partners_and_units_are_refused(api: str, query: str) -> None:
    variables = {"c": PLANTED.phoenix.new_company, "div": "152201"}
    for role in ("partner", "submitter", "reviewer"):
        body = GraphQLClient(api, mint(role)).post(query, variables).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
        assert body["data"] is None


def test_most_exposed_of_the_league_ranks_the_phoenix_company(
    investigator: GraphQLClient,
) -> None:
    found = investigator.data(
        '{ mostExposed(division: "152200", first: 100) { creditCode score listed } }'
    )["mostExposed"]
    ranked = {e["creditCode"]: e for e in found}  # type: ignore[union-attr]
    assert PLANTED.phoenix.sanctioned in ranked[PLANTED.phoenix.new_company]["listed"]
    scores = [e["score"] for e in found]  # type: ignore[union-attr]
    assert scores == sorted(scores, reverse=True)


def test_traversals_are_audited(investigator: GraphQLClient, api: str) -> None:
    code = PLANTED.phoenix.new_company
    investigator.data(EXPOSURE, {"c": code, "d": 2})
    hub_command("audit", "drain")
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    trail = admin.data(
        """query($c: String!) { auditTrail(subject: $c, first: 100) {
             field purpose decision released } }""",
        {"c": code},
    )["auditTrail"]
    mine = [e for e in trail if e["field"] == "exposure"]  # type: ignore[union-attr]
    assert mine and mine[-1]["purpose"] == "investigation:CASE-7"
    assert PLANTED.phoenix.sanctioned in mine[-1]["released"]
