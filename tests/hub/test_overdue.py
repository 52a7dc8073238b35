"""What each unit has overdue: objections, complaints and repair applications open past their
deadline, through the properties every filing shares. Here all three kinds are nodes with only
those properties, due on chosen days, so the counts are exact whatever else the suite files:
the list (reviewers and admins of the unit or above), the refusals, the assessment. Filings made
through their flows and found overdue are in the flows' own deadline tests."""

from __future__ import annotations

from datetime import date, timedelta

from neo4j import AsyncDriver

from graph.assessment import assess
from graph.db import Store
from tests.conftest import GraphQLClient, mint, unit_token


def _error(body: dict[str, object]) -> dict[str, object]:
    return body["errors"][0]["extensions"]  # type: ignore[index,no-any-return]


OVERDUE = """{ overdueItems(first: 100) { edges { node {
  kind id status unit creditCode filedOn dueOn } } } }"""
ASSESS = """query($f: Date!, $t: Date!, $u: String) {
  collectionAssessment(from: $f, to: $t, unit: $u) {
    unit overdueObjections overdueComplaints overdueRepairs } }"""


async def test_each_unit_sees_what_is_overdue_and_the_assessment_counts_it(
    api: str, driver: AsyncDriver, store: Store
) -> None:
    today = date.today()
    unit = "NMG152202"
    made = {
        # (label, id): (dueOn, open): overdue only when open and due before today
        ("Objection", "OD-OBJ-1"): (today - timedelta(days=3), True),
        ("Objection", "OD-OBJ-2"): (today, True),  # due today: not yet
        ("Complaint", "OD-CMP-1"): (today - timedelta(days=1), True),
        ("Complaint", "OD-CMP-2"): (today - timedelta(days=9), False),  # answered
        ("RepairApplication", "OD-RA-1"): (today - timedelta(days=30), True),
        ("RepairApplication", "OD-RA-2"): (today - timedelta(days=2), True),
    }
    for (label, node_id), (due, is_open) in made.items():
        await driver.execute_query(
            f"MERGE (f:{label} {{id: $id}}) SET f.status = 'FILED', f.unit = $unit, "
            "f.creditCode = $code, f.filedOn = $filed, f.dueOn = $due, f.open = $open",
            id=node_id, unit=unit, code="91152202MA0OD00010", filed=due - timedelta(days=5),
            due=due, open=is_open,
        )  # fmt: skip
    expected = {"OD-OBJ-1", "OD-CMP-1", "OD-RA-1", "OD-RA-2"}
    for who in ("reviewer", "admin"):
        league = GraphQLClient(api, unit_token(who, "NMG152200", f"od-{who}"))
        edges = league.data(OVERDUE)["overdueItems"]["edges"]  # type: ignore[index]
        assert edges, who
        mine = [e["node"] for e in edges if e["node"]["id"].startswith("OD-")]
        assert {n["id"] for n in mine} == expected, who
        assert [n["id"] for n in mine] == ["OD-RA-1", "OD-OBJ-1", "OD-RA-2", "OD-CMP-1"]
        assert {n["kind"] for n in mine} == {"Objection", "Complaint", "RepairApplication"}
    own = GraphQLClient(api, unit_token("reviewer", unit, "od-own")).data(OVERDUE)
    assert {e["node"]["id"] for e in own["overdueItems"]["edges"]} >= expected  # type: ignore[index]
    other = GraphQLClient(api, unit_token("reviewer", "NMG150102", "od-other")).data(OVERDUE)
    assert not {e["node"]["id"] for e in other["overdueItems"]["edges"]} & expected  # type: ignore[index]
    for role in ("partner", "submitter", "investigator"):
        refused = GraphQLClient(api, mint(role)).post(OVERDUE).json()
        assert _error(refused)["code"] == "FORBIDDEN", role
    assert _error(GraphQLClient(api, None).post(OVERDUE).json())["code"] == "FORBIDDEN"

    rows = await assess(store, today, today, today, unit)
    assert [
        (r["overdueObjections"], r["overdueComplaints"], r["overdueRepairs"]) for r in rows
    ] == [(1, 1, 2)]
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    assessed = admin.data(ASSESS, {"f": today.isoformat(), "t": today.isoformat(), "u": unit})
    assert assessed["collectionAssessment"] == [
        {"unit": unit, "overdueObjections": 1, "overdueComplaints": 1, "overdueRepairs": 2}
    ]
