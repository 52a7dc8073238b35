"""The hub against a routing URI (``neo4j://``, what a cluster or Aura is reached by) and across
two API processes: a second API started with ``neo4j://`` against the test Neo4j writes and
reads, a reviewer's approval through one process is what the other process answers at once,
and the command line works through the routing URI too."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hub.cli import services
from tests.conftest import (
    NEO4J_PORT,
    GraphQLClient,
    free_port,
    hub_command,
    mint,
    start_api,
    unit_token,
)
from tests.subjects import fresh_subjects

UNIT = "NMG152201"
ROUTED = f"neo4j://127.0.0.1:{NEO4J_PORT}"
SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id status } }"
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { status } }"
RECORD = "query($id: String!) { creditRecord(id: $id) { status } }"
LOOKUP = "query($c: String!) { subject(creditCode: $c) { records { id status } } }"


@pytest.fixture
def routed_api(api: str) -> Iterator[str]:
    """A second API process, reaching Neo4j through the routing URI."""
    port = free_port()
    proc = start_api(port, "api-routed", HUB_NEO4J_URI=ROUTED)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        services.stop_process(proc.pid, timeout=20)
        proc.wait(timeout=5)


def test_an_approval_through_one_process_is_read_through_the_other(
    api: str, routed_api: str
) -> None:
    ((code, _),) = fresh_subjects(1)
    record = {
        "item": "ADMIN_PENALTY", "subject": code, "tier": "GENERAL", "title": "违法占地",
        "decidedOn": "2026-05-06", "document": f"乌自然资罚〔2026〕RT{code[-5:]}号",
        "legalBasis": "《中华人民共和国土地管理法》第七十七条",
    }  # fmt: skip
    submitter = GraphQLClient(routed_api, unit_token("submitter", UNIT, "route-clerk"))
    record_id = submitter.data(SUBMIT, {"r": record})["submitRecord"]["id"]  # type: ignore[index]
    bank = GraphQLClient(api, mint("partner"))
    before = bank.data(LOOKUP, {"c": code})["subject"]["records"]  # type: ignore[index]
    assert record_id not in {r["id"] for r in before}
    for approver, reader in ((routed_api, api), (api, routed_api)):
        if approver == api:  # the second round: a new record, approved on the bolt:// side
            record = {**record, "document": record["document"].replace("RT", "RU")}
            record_id = submitter.data(SUBMIT, {"r": record})["submitRecord"]["id"]  # type: ignore[index]
        reviewer = unit_token("reviewer", UNIT, "route-reviewer")
        approved = GraphQLClient(approver, reviewer).data(APPROVE, {"id": record_id})
        assert approved["approveRecord"]["status"] == "PUBLISHED"  # type: ignore[index]
        # Whichever process answers next, the reviewer and a partner see the approval.
        seen = GraphQLClient(reader, reviewer).data(RECORD, {"id": record_id})
        assert seen["creditRecord"] == {"status": "PUBLISHED"}
        records = GraphQLClient(reader, mint("partner")).data(LOOKUP, {"c": code})
        assert {"id": record_id, "status": "PUBLISHED"} in records["subject"]["records"]  # type: ignore[index]


def test_the_command_line_works_through_the_routing_uri(api: str) -> None:
    routed = {**os.environ, "HUB_NEO4J_URI": ROUTED}
    hub_command("migrate", env=routed)  # schema writes
    ((code, _),) = fresh_subjects(1)
    rated = hub_command("rate", code, env=routed)  # reads its inputs, writes the rating
    assert code in rated.stdout
    grade = GraphQLClient(api, mint("partner")).data(
        "query($c: String!) { subject(creditCode: $c) { rating { grade } } }", {"c": code}
    )
    assert grade["subject"]["rating"]["grade"]  # type: ignore[index]
