"""Keyset pagination over the seeded graph: every visible subject once, in order, no gaps."""

from __future__ import annotations

from neo4j import AsyncDriver

from tests.conftest import GraphQLClient

PAGE = """
query($first: Int, $after: String, $filter: SubjectFilter) {
  subjects(first: $first, after: $after, filter: $filter) {
    edges { cursor node { creditCode division { code } grade kind } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _walk(client: GraphQLClient, first: int, flt: dict[str, object] | None) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = client.data(PAGE, {"first": first, "after": after, "filter": flt})["subjects"]
        edges = page["edges"]  # type: ignore[index]
        seen.extend(e["node"]["creditCode"] for e in edges)
        info = page["pageInfo"]  # type: ignore[index]
        if not info["hasNextPage"]:
            assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
            return seen
        after = info["endCursor"]


async def _expected(driver: AsyncDriver, where: str = "true", **params: object) -> list[str]:
    records, _, _ = await driver.execute_query(
        "MATCH (s:Subject) WHERE s.disclosure IN ['PUBLIC', 'SHARED'] AND "
        + where
        + " RETURN s.creditCode AS code ORDER BY code",
        **params,
    )
    return [r["code"] for r in records]


async def test_all_pages_cover_every_subject_once(
    seeded: int, partner: GraphQLClient, driver: AsyncDriver
) -> None:
    walked = _walk(partner, 100, None)
    expected = await _expected(driver)
    assert len(expected) >= seeded
    assert walked == expected  # same set, same order, no duplicates, no gaps


async def test_filtered_pages_of_a_league(
    seeded: int, partner: GraphQLClient, driver: AsyncDriver
) -> None:
    walked = _walk(partner, 7, {"division": "152200"})
    assert walked == await _expected(driver, "s.division STARTS WITH '1522'")
    assert walked, "the seed places subjects in Xing'an League"
    graded = _walk(partner, 50, {"division": "150000", "grade": "C"})
    assert graded == await _expected(driver, "s.grade = 'C'")


def test_page_size_limits_and_bad_cursor(seeded: int, partner: GraphQLClient) -> None:
    default = partner.data(PAGE, {})["subjects"]
    assert len(default["edges"]) == 20  # type: ignore[index]
    over = partner.post(PAGE, {"first": 101}).json()["errors"][0]
    assert over["extensions"]["code"] == "LIMIT_EXCEEDED"
    zero = partner.post(PAGE, {"first": 0}).json()["errors"][0]
    assert zero["extensions"]["code"] == "BAD_USER_INPUT"
    bad = partner.post(PAGE, {"after": "not-a-cursor"}).json()["errors"][0]
    assert bad["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = partner.post(PAGE, {"filter": {"division": "990000"}}).json()["errors"][0]
    assert unknown["extensions"]["code"] == "BAD_USER_INPUT"
