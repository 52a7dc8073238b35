"""Investigators on the seeded graph: the planted phoenix, ring and circular holding are found,
partners are refused, and every traversal is in the audit trail."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from neo4j import AsyncDriver

from demo.planted import PLANTED
from tests.audit import audit_trail
from tests.conftest import GraphQLClient, mint

EXPOSURE = """query($c: String!, $d: Int) {
  exposure(creditCode: $c, depth: $d) {
    creditCode listing listedSince score phoenix phoenixReason
    paths { kinds weight nodes { kind key name } }
  }
}"""
RINGS = """query($div: String!, $c: String) {
  rings(division: $div, creditCode: $c) { members ties { kind value members } }
}"""


NETWORK = """query($c: String, $n: String, $d: Int, $r: [RelationKind!], $asOf: Date,
                  $limit: Int) {
  network(creditCode: $c, node: $n, depth: $d, relations: $r, asOf: $asOf, limit: $limit) {
    nodes { id kind key label sanctioned hub } edges { kind source target since share }
    truncated capped
  }
}"""
PATHS = """query($a: String!, $b: String!, $h: Int, $k: Int) {
  paths(from: $a, to: $b, maxHops: $h, first: $k) {
    length nodes { id kind key } edges { kind source target }
  }
}"""

SUBGRAPH = """query($codes: [String!]!, $h: Int) {
  connectingSubgraph(creditCodes: $codes, maxHops: $h) {
    nodes { id kind key sanctioned } edges { kind source target } pairs { from to hops } missing
  }
}"""
UNKNOWN = "91110000600037341L"  # a valid code no subject has


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


def test_a_rings_audit_names_its_ties_without_showing_them(
    investigator: GraphQLClient, api: str
) -> None:
    """The trail says which phones, addresses and e-mails a ring or a network released (a
    keyed hash of each), never the values: an admin reads the trail without the clearance
    contacts need."""
    ring = PLANTED.ring
    code = ring.members[2]
    found = investigator.data(RINGS, {"div": "152201", "c": code})["rings"]
    values = [t["value"] for r in found for t in r["ties"]]  # type: ignore[union-attr]
    assert values
    relations = "relations: [HAS_PHONE, HAS_ADDRESS, HAS_EMAIL]"
    net = f'{{ network(creditCode: "{code}", depth: 1, {relations}) {{ nodes {{ id }} }} }}'
    shown = [n["id"] for n in investigator.data(net)["network"]["nodes"]]  # type: ignore[index]
    assert [i for i in shown if i.partition(":")[2] in values]  # the investigator sees them
    trail = audit_trail(api, code, "field released")
    for field in ("rings", "network"):
        (entry,) = [e for e in trail if e["field"] == field][-1:]
        kinds = {v.partition(":")[0] for v in entry["released"]}
        assert {"Phone", "Address", "Email"} & kinds, field
        assert not [v for v in values if any(v in item for item in entry["released"])], field


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
        NETWORK,
        PATHS,
        SUBGRAPH,
    ],
)
def test_partners_and_units_are_refused(api: str, query: str) -> None:
    variables = {
        "c": PLANTED.phoenix.new_company,
        "div": "152201",
        "a": PLANTED.phoenix.new_company,
        "b": PLANTED.phoenix.sanctioned,
        "codes": [PLANTED.phoenix.new_company, PLANTED.phoenix.sanctioned],
    }
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
    trail = audit_trail(api, code, "field purpose decision released")
    mine = [e for e in trail if e["field"] == "exposure"]
    assert mine and mine[-1]["purpose"] == "investigation:CASE-7"
    assert f"Subject:{PLANTED.phoenix.sanctioned}" in mine[-1]["released"]


def test_network_of_the_phoenix_company(investigator: GraphQLClient) -> None:
    phoenix = PLANTED.phoenix
    net: dict[str, Any] = investigator.data(NETWORK, {"c": phoenix.new_company, "d": 2})["network"]  # type: ignore[assignment]
    nodes = {n["id"]: n for n in net["nodes"]}
    assert nodes[f"Subject:{phoenix.sanctioned}"]["sanctioned"] is True
    assert nodes[f"Subject:{phoenix.new_company}"]["sanctioned"] is False
    assert f"Project:{phoenix.project}" in nodes
    assert net["edges"]
    for edge in net["edges"]:
        assert edge["source"] in nodes and edge["target"] in nodes
    shares = {
        (e["source"], e["target"]): e["share"]
        for e in net["edges"]
        if e["kind"] == "SHAREHOLDER_OF"
    }
    assert phoenix.person_share in shares.values()


def test_network_respects_kinds_date_limit_and_hubs(investigator: GraphQLClient) -> None:
    phoenix = PLANTED.phoenix
    only = investigator.data(
        NETWORK, {"c": phoenix.new_company, "d": 2, "r": ["LEGAL_REPRESENTATIVE_OF"]}
    )["network"]
    assert {e["kind"] for e in only["edges"]} == {"LEGAL_REPRESENTATIVE_OF"}  # type: ignore[index]
    # Before the new company's legal representative took office, nothing links it.
    before = investigator.data(
        NETWORK,
        {"c": phoenix.new_company, "d": 2, "r": ["LEGAL_REPRESENTATIVE_OF"], "asOf": "2022-12-31"},
    )["network"]
    assert before["edges"] == []  # type: ignore[index]
    small = investigator.data(NETWORK, {"c": phoenix.new_company, "d": 4, "limit": 5})["network"]
    assert len(small["nodes"]) == 5 and small["truncated"] is True  # type: ignore[index,arg-type]


async def test_a_hub_is_shown_but_not_expanded(
    investigator: GraphQLClient, driver: AsyncDriver
) -> None:
    """The incubator's address is shared by many subjects: a network through it shows the
    address, flags it a hub, and does not list the other tenants behind it."""
    records, _, _ = await driver.execute_query(
        "MATCH (s:Subject)-[:HAS_ADDRESS]->(:Address {text: $a}) RETURN s.creditCode AS c "
        "ORDER BY c LIMIT 1",
        a=PLANTED.hub_address,
    )
    start = records[0]["c"]
    net: dict[str, Any] = investigator.data(
        NETWORK, {"c": start, "d": 2, "r": ["HAS_ADDRESS"], "limit": 500}
    )["network"]  # type: ignore[assignment]
    hub = f"Address:{PLANTED.hub_address}"
    assert {n["id"]: n["hub"] for n in net["nodes"]}[hub] is True
    assert {n["id"] for n in net["nodes"] if n["kind"] == "Subject"} == {f"Subject:{start}"}


def test_network_from_a_person_and_from_a_hub(investigator: GraphQLClient) -> None:
    """The page expands people and values too: the phoenix person's network holds both of its
    companies; a hub is shown alone, never expanded, even as the start."""
    phoenix = PLANTED.phoenix
    around = investigator.data(
        NETWORK, {"c": phoenix.new_company, "d": 1, "r": ["LEGAL_REPRESENTATIVE_OF"]}
    )["network"]
    person = next(n["id"] for n in around["nodes"] if n["kind"] == "Person")  # type: ignore[index]
    net = investigator.data(NETWORK, {"n": person, "d": 1})["network"]
    subjects = {n["key"] for n in net["nodes"] if n["kind"] == "Subject"}  # type: ignore[index]
    assert {phoenix.new_company, phoenix.sanctioned} <= subjects
    hub = investigator.data(NETWORK, {"n": f"Address:{PLANTED.hub_address}", "d": 2})["network"]
    assert [(n["kind"], n["hub"]) for n in hub["nodes"]] == [("Address", True)]  # type: ignore[index]
    assert hub["edges"] == []  # type: ignore[index]


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({}, "BAD_USER_INPUT"),
        ({"c": PLANTED.phoenix.new_company, "n": "Person:x"}, "BAD_USER_INPUT"),
        ({"n": "Sanction:x"}, "BAD_USER_INPUT"),
        ({"n": "Person:"}, "BAD_USER_INPUT"),
        ({"n": "Subject:91110000600037341N"}, "INVALID_CREDIT_CODE"),
        ({"n": "Person:no-such-person"}, "NOT_FOUND"),
    ],
)
def test_network_start_is_checked(
    investigator: GraphQLClient, variables: dict[str, str], code: str
) -> None:
    body = investigator.post(NETWORK, variables).json()
    assert body["errors"][0]["extensions"]["code"] == code


def test_shortest_paths_between_the_phoenix_pair(investigator: GraphQLClient) -> None:
    phoenix = PLANTED.phoenix
    found = investigator.data(
        PATHS, {"a": phoenix.new_company, "b": phoenix.sanctioned, "h": 6, "k": 3}
    )["paths"]
    assert found and found[0]["length"] == 2  # type: ignore[index]
    first = found[0]  # type: ignore[index]
    assert [n["kind"] for n in first["nodes"]] == ["Subject", "Person", "Subject"]
    assert first["nodes"][0]["key"] == phoenix.new_company
    assert first["nodes"][-1]["key"] == phoenix.sanctioned
    lengths = [p["length"] for p in found]  # type: ignore[union-attr]
    assert lengths == sorted(lengths) and len(found) == 3  # type: ignore[arg-type]
    too_far = investigator.post(PATHS, {"a": phoenix.new_company, "b": phoenix.sanctioned, "h": 7})
    assert too_far.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


def test_connecting_subgraph_of_ring_members(investigator: GraphQLClient) -> None:
    """Ring members 1, 3 and 5 are chained through 2 and 4 by shared contacts: 1–3 and 3–5 are
    four links apart, 1–5 eight, beyond maxHops 4; an unknown code is reported, not fatal."""
    s1, s2, s3, s4, s5 = PLANTED.ring.members
    got: dict[str, Any] = investigator.data(SUBGRAPH, {"codes": [s1, s3, s5, UNKNOWN], "h": 4})[
        "connectingSubgraph"
    ]  # type: ignore[assignment]
    hops = {(p["from"], p["to"]): p["hops"] for p in got["pairs"]}
    assert hops == {
        (s1, s3): 4,
        (s1, s5): None,
        (s3, s5): 4,
        (s1, UNKNOWN): None,
        (s3, UNKNOWN): None,
        (s5, UNKNOWN): None,
    }
    assert got["missing"] == [UNKNOWN]
    subjects = {n["key"] for n in got["nodes"] if n["kind"] == "Subject"}
    assert subjects == {s1, s2, s3, s4, s5}
    values = {n["key"] for n in got["nodes"] if n["kind"] in ("Phone", "Address", "Email")}
    assert values == {link[3] for link in PLANTED.ring.links}
    ids = {n["id"] for n in got["nodes"]}
    assert len(got["edges"]) == 8
    assert all(e["source"] in ids and e["target"] in ids for e in got["edges"])
    wider = investigator.data(SUBGRAPH, {"codes": [s1, s5], "h": 6})["connectingSubgraph"]
    assert wider["pairs"] == [{"from": s1, "to": s5, "hops": None}]  # type: ignore[index]


def test_connecting_subgraph_bounds(investigator: GraphQLClient) -> None:
    one = investigator.post(SUBGRAPH, {"codes": [PLANTED.ring.members[0]] * 2})
    assert one.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    many = investigator.post(SUBGRAPH, {"codes": list(PLANTED.subjects[:9])})
    assert many.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


CONTROLLERS = """query($c: String!) {
  controllers(creditCode: $c) {
    controller controllerName controlChain controlReason
    beneficialOwners { kind name share exact chains }
  }
}"""
HOLDING_NAMES = {"Q": "李建国", "R": "赵海燕", "T": "高志远"}


@pytest.mark.parametrize(
    ("company", "controller", "reason"),
    [
        ("C1", "Q", "beneficial-majority"),  # nobody over 1/2 directly; Q owns 125/232
        ("C2", "Q", "beneficial-majority"),  # C1 holds 0.6 of C2, and Q controls C1
        ("C3", "T", "majority"),  # T holds 0.6 directly
    ],
)
def test_circular_holding_owners_are_exact(
    investigator: GraphQLClient, company: str, controller: str, reason: str
) -> None:
    holding = PLANTED.holding
    code = holding.companies[company]
    report: dict[str, Any] = investigator.data(CONTROLLERS, {"c": code})["controllers"]  # type: ignore[assignment]
    # By hand (demo/planted.py): x = (I - S)^-1 d over the cycle C1 -> C2 -> C3 -> C1.
    expected = {
        HOLDING_NAMES[person]: shares[company]
        for person, shares in holding.beneficial.items()
        if shares[company] >= Fraction(1, 4)
    }
    owners = {o["name"]: o for o in report["beneficialOwners"]}
    assert expected and {name: Fraction(o["exact"]) for name, o in owners.items()} == expected
    for name, owner in owners.items():
        assert owner["kind"] == "Person"
        assert owner["share"] == pytest.approx(float(expected[name]), abs=1e-9)
        assert owner["chains"], name  # a share held at all is held along some chain
        for chain in owner["chains"]:
            assert chain[-1] == code and len(set(chain)) == len(chain)
    assert report["controllerName"] == HOLDING_NAMES[controller]
    assert report["controlReason"] == reason
    assert report["controlChain"][-1] == code


def test_controllers_refuse_partners(api: str) -> None:
    body = (
        GraphQLClient(api, mint("partner"))
        .post(CONTROLLERS, {"c": PLANTED.holding.companies["C1"]})
        .json()
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
