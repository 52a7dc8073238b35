"""Investigators' search on the seeded graph: Chinese names, legal forms, full-width text,
pinyin and initials, and the resident-ID lookup that needs CONFIDENTIAL clearance."""

from __future__ import annotations

import pytest
from neo4j import AsyncDriver

from demo.planted import PLANTED
from tests.conftest import GraphQLClient, hub_command, mint

SEARCH = """query($t: String!, $k: SearchKind, $n: Int) {
  search(text: $t, kind: $k, first: $n) { kind key name score matchedBy }
}"""
PERSON = """query($id: String!) {
  personByResidentId(idNumber: $id) { name idMasked ties { kind creditCode share } }
}"""


@pytest.fixture
def investigator(api: str, seeded: int) -> GraphQLClient:
    return GraphQLClient(api, mint("investigator", agency="NMG150000"))


def _hits(client: GraphQLClient, text: str, kind: str = "ALL") -> list[dict[str, object]]:
    return client.data(SEARCH, {"t": text, "k": kind, "n": 20})["search"]  # type: ignore[return-value]


@pytest.mark.parametrize(
    "text",
    ["恒泰矿业", "乌兰浩特市恒泰矿业有限公司", "恒泰矿业 有限公司", "恒泰矿业（有限公司）"],
)
def test_chinese_names_ignore_legal_form_and_width(investigator: GraphQLClient, text: str) -> None:
    hits = _hits(investigator, text, "SUBJECT")
    assert hits[0]["key"] == PLANTED.phoenix.sanctioned
    assert hits[0]["matchedBy"] == "fulltext"
    assert PLANTED.phoenix.new_company not in {h["key"] for h in hits}  # 恒泰宏达矿业


def test_pinyin_and_initials(investigator: GraphQLClient) -> None:
    by_pinyin = _hits(investigator, "HengTai KuangYe", "SUBJECT")
    assert PLANTED.phoenix.sanctioned in {h["key"] for h in by_pinyin}
    assert {h["matchedBy"] for h in by_pinyin} == {"pinyin"}
    people = _hits(investigator, "baozhigang", "PERSON")
    assert people[0]["name"] == "包志刚" and people[0]["kind"] == "Person"
    assert _hits(investigator, "bzg", "PERSON")[0]["name"] == "包志刚"


async def test_reindex_writes_missing_keys_so_pinyin_finds_old_names(
    investigator: GraphQLClient, driver: AsyncDriver
) -> None:
    """A subject loaded before the search keys existed is not found by pinyin until `hub
    reindex` writes its keys; a second run has nothing left to write."""
    await driver.execute_query(
        "MATCH (n:Subject {creditCode: $c}) REMOVE n.nameNormalised, n.namePinyin, n.nameInitials",
        c=PLANTED.phoenix.sanctioned,
    )
    assert PLANTED.phoenix.sanctioned not in {h["key"] for h in _hits(investigator, "hengtai")}
    done = hub_command("reindex")
    assert "search keys written for 1 subjects and 0 people" in done.stderr
    assert PLANTED.phoenix.sanctioned in {h["key"] for h in _hits(investigator, "hengtai")}
    assert "for 0 subjects and 0 people" in hub_command("reindex").stderr


def test_lucene_operators_are_text(investigator: GraphQLClient) -> None:
    assert _hits(investigator, '恒泰" OR name:*') == []


def test_resident_id_lookup_needs_confidential_clearance(api: str, seeded: int) -> None:
    cleared = GraphQLClient(
        api,
        mint(
            "investigator",
            agency="NMG150000",
            clearance="CONFIDENTIAL",
            purpose="investigation:CASE-7",
        ),
    )
    person = cleared.data(PERSON, {"id": PLANTED.phoenix.person})["personByResidentId"]
    assert person["name"] == "包志刚"  # type: ignore[index]
    assert person["idMasked"].startswith(PLANTED.phoenix.person[:4])  # type: ignore[index]
    ties = {(t["kind"], t["creditCode"]) for t in person["ties"]}  # type: ignore[index]
    assert ("LEGAL_REPRESENTATIVE_OF", PLANTED.phoenix.sanctioned) in ties
    assert ("LEGAL_REPRESENTATIVE_OF", PLANTED.phoenix.new_company) in ties
    for token in (mint("investigator", agency="NMG150000"), mint("partner")):
        body = GraphQLClient(api, token).post(PERSON, {"id": PLANTED.phoenix.person}).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
