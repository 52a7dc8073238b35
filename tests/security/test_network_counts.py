"""A network's ``capped`` is a count of the node's links: it counts only links the caller may
see, so a hidden neighbour is neither shown nor given away by the cap (a count is a read)."""

from __future__ import annotations

from neo4j import AsyncDriver

from graph.identifiers import uscc_check_char
from tests.conftest import GraphQLClient, mint

NETWORK = """query($c: String!) { network(creditCode: $c, depth: 1) {
  nodes { id } capped } }"""
FANOUT = 50  # hub/api/investigate/network.py


def _code(body: str) -> str:
    return body + uscc_check_char(body)


async def test_a_hidden_link_does_not_tip_a_node_over_the_cap(
    api: str, driver: AsyncDriver
) -> None:
    centre, hidden = _code("91150000MA0CAP001"), _code("91150000MA0CAP002")
    await driver.execute_query(
        """
        MERGE (s:Subject {creditCode: $centre})
        SET s.name = '扇出上限测试矿业有限公司', s.division = '150000', s.disclosure = 'PUBLIC',
            s.status = 'ACTIVE', s.sourceAgency = 'NMG150000'
        WITH s
        UNWIND range(1, $fanout) AS i
        MERGE (p:Person {personId: 'P-CAP-' + toString(i)}) SET p.name = '职员' + toString(i)
        MERGE (p)-[:OFFICER_OF]->(s)
        WITH s LIMIT 1
        MERGE (h:Subject {creditCode: $hidden})
        SET h.name = '保密股东有限公司', h.division = '150000', h.disclosure = 'CONFIDENTIAL',
            h.status = 'ACTIVE', h.sourceAgency = 'NMG150000'
        MERGE (h)-[:SHAREHOLDER_OF]->(s)
        """,
        centre=centre,
        hidden=hidden,
        fanout=FANOUT,
    )
    # Without a case purpose an investigator may not read CONFIDENTIAL rows: 50 links it sees.
    plain = GraphQLClient(api, mint("investigator", agency="NMG150000", clearance="CONFIDENTIAL"))
    seen = plain.data(NETWORK, {"c": centre})["network"]
    ids = {n["id"] for n in seen["nodes"]}  # type: ignore[index]
    assert len(ids) == FANOUT + 1 and f"Subject:{hidden}" not in ids
    assert seen["capped"] == []  # type: ignore[index]
    # With one, the 51st link is there to see, past the cap: not shown, and the cap says so.
    cased = GraphQLClient(
        api,
        mint(
            "investigator",
            agency="NMG150000",
            clearance="CONFIDENTIAL",
            purpose="investigation:CASE-CAP",
        ),
    )
    full = cased.data(NETWORK, {"c": centre})["network"]
    assert len(full["nodes"]) == FANOUT + 1  # type: ignore[index]
    assert full["capped"] == [f"Subject:{centre}"]  # type: ignore[index]
