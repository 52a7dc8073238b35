"""Cases on the overdue list through the API, with the day injected (``asOf``): a transfer past
its deadline is on the list of its unit and of the league and region above from the day after its
due day, never on another unit's, says whose move it is, and leaves the list when the answer it
waits for arrives; the collection assessment counts it. Callers without the role learn nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from graph.db import Store
from tests.conftest import GraphQLClient, mint, unit_token
from tests.subjects import fresh_subjects
from tests.transfers import UNIT, add_document, open_transfer_case

OVERDUE = """query($on: Date, $after: String) {
  overdueItems(first: 100, after: $after, asOf: $on) {
    edges { node { kind id status unit creditCode filedOn dueOn duty party } }
    hasNextPage endCursor } }"""
ASSESS = """query($f: Date!, $t: Date!, $u: String) {
  collectionAssessment(from: $f, to: $t, unit: $u) { unit overdueCases } }"""


def _listed(client: GraphQLClient, day: date | None, case_id: str) -> list[dict[str, Any]]:
    """The case's entries on the caller's whole list as of ``day`` (every page read)."""
    found, after, pages = [], None, 0
    while True:
        page: dict[str, Any] = client.data(
            OVERDUE, {"on": day.isoformat() if day else None, "after": after}
        )["overdueItems"]  # type: ignore[assignment]
        pages += 1
        found += [e["node"] for e in page["edges"] if e["node"]["id"] == case_id]
        if not page["hasNextPage"]:
            return found
        after = page["endCursor"]
        assert pages < 100, "the list does not end"


def _error(body: dict[str, Any]) -> dict[str, Any]:
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


async def test_an_overdue_transfer_is_on_its_units_list_and_those_above_only(
    api: str, store: Store
) -> None:
    [(code, record)] = fresh_subjects(1)
    case_id = await open_transfer_case(store, code, record, date(2026, 9, 28))
    # Approved Wednesday Sep 30: the transfer is due within one working day, Thu Oct 8.
    await add_document(store, case_id, "TRANSFER_APPROVAL", "乌自然资批〔2026〕11号",
                       date(2026, 9, 30))  # fmt: skip
    own = GraphQLClient(api, unit_token("reviewer", UNIT, "co-own"))
    above = {
        "league": GraphQLClient(api, unit_token("reviewer", "NMG152200", "co-league")),
        "region": GraphQLClient(api, unit_token("admin", "NMG150000", "co-region")),
    }
    elsewhere = {
        "a banner beside it": GraphQLClient(api, unit_token("reviewer", "NMG152202", "co-b")),
        "another league's banner": GraphQLClient(api, unit_token("reviewer", "NMG150102", "co-h")),
    }

    assert _listed(own, date(2026, 10, 8), case_id) == []  # due that day: not yet
    expected = {
        "kind": "Case", "id": case_id, "status": "OPEN", "unit": UNIT, "creditCode": code,
        "filedOn": "2026-09-28", "dueOn": "2026-10-08", "duty": "TRANSFER_APPROVAL",
        "party": "DEPARTMENT",
    }  # fmt: skip
    assert _listed(own, date(2026, 10, 9), case_id) == [expected]
    for who, client in above.items():
        assert _listed(client, date(2026, 10, 9), case_id) == [expected], who
    for who, client in elsewhere.items():
        assert _listed(client, date(2026, 10, 9), case_id) == [], who
        assert _listed(client, date(2026, 12, 31), case_id) == [], who

    # Refused outright, with no list at all, whatever the day asked.
    for token in (mint("partner"), mint("submitter"), mint("investigator"), None):
        body = GraphQLClient(api, token).post(OVERDUE, {"on": "2026-10-09"}).json()
        assert _error(body)["code"] == "FORBIDDEN" and body["data"] is None


async def test_the_answer_takes_a_case_off_the_list(api: str, store: Store) -> None:
    [(code, record)] = fresh_subjects(1)
    case_id = await open_transfer_case(store, code, record, date(2026, 2, 10))
    # Friday Feb 13: the police's days are Sat 14 (worked), Tue 24 and Wed 25 (Feb 15-23 off).
    await add_document(store, case_id, "TRANSFER", "乌自然资移〔2026〕12号", date(2026, 2, 13))
    own = GraphQLClient(api, unit_token("reviewer", UNIT, "co-own"))
    league = GraphQLClient(api, unit_token("reviewer", "NMG152200", "co-league"))
    assert _listed(own, date(2026, 2, 25), case_id) == []
    [item] = _listed(league, date(2026, 2, 26), case_id)
    assert (item["duty"], item["party"], item["dueOn"]) == ("TRANSFER", "POLICE", "2026-02-25")

    await add_document(store, case_id, "FILING_NOTICE", "乌公立〔2026〕12号", date(2026, 2, 26))
    assert _listed(own, date(2026, 2, 26), case_id) == []
    assert _listed(league, date(2026, 3, 2), case_id) == []


async def test_by_default_the_list_and_the_assessment_judge_by_today(
    api: str, store: Store
) -> None:
    today = date.today()
    [(code, record)] = fresh_subjects(1)
    case_id = await open_transfer_case(store, code, record, today - timedelta(days=40))
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    period = {"f": today.isoformat(), "t": today.isoformat(), "u": UNIT}

    def counted() -> int:
        rows: list[dict[str, Any]] = admin.data(ASSESS, period)["collectionAssessment"]  # type: ignore[assignment]
        return sum(r["overdueCases"] for r in rows)

    before = counted()
    # Approved 30 days ago: the transfer, due within one working day, is late today.
    await add_document(store, case_id, "TRANSFER_APPROVAL", "乌自然资批〔2026〕13号",
                       today - timedelta(days=30))  # fmt: skip
    own = GraphQLClient(api, unit_token("reviewer", UNIT, "co-own"))
    [item] = _listed(own, None, case_id)
    assert (item["kind"], item["duty"]) == ("Case", "TRANSFER_APPROVAL")
    assert counted() == before + 1
