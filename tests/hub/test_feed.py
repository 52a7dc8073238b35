"""sanctionFeed: a polling partner reads ADD/MOD/DEL in the order the hub wrote them, only what
its agreement allows (its kind's measures, its class), from a cursor that another API process
(or the same one after a restart) honours."""

from __future__ import annotations

from datetime import date
from typing import Any

from neo4j import AsyncDriver

from connectors.signing import new_credentials
from graph.db import Store
from graph.exchange.partners import Keys, register
from graph.records.listings import end_listing, publish_listing
from policies.credit.measures import default_measures
from policies.targets import TargetRule
from tests.conftest import GraphQLClient, free_port, mint, start_api
from tests.listings import serious_listing
from tests.subjects import fresh_subjects

FEED = """query($a: String, $n: Int) { sanctionFeed(after: $a, first: $n) {
  entries { cursor version op eventId sanctionId creditCode listing status endDate
            measures { code } }
  endCursor hasNextPage } }"""
CATALOGUE = default_measures()


def _drain(client: GraphQLClient, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Every entry after the cursor, page by page (5 at a time), and the cursor to resume from."""
    entries: list[dict[str, Any]] = []
    while True:
        page: dict[str, Any] = client.data(FEED, {"a": cursor, "n": 5})["sanctionFeed"]  # type: ignore[assignment]
        entries += page["entries"]
        cursor = page["endCursor"]
        if not page["hasNextPage"]:
            return entries, cursor


async def _decide(store: Store, sanction: str, subject: str, record: str, cls: str) -> None:
    decision = serious_listing(sanction, subject, record, cls)
    await publish_listing(store, CATALOGUE, decision)


async def test_a_polling_partner_reads_its_deltas_in_order(
    api: str, migrated: None, driver: AsyncDriver, store: Store
) -> None:
    keys = new_credentials("HMAC_SHA256")
    await register(
        store,
        CATALOGUE,
        {"code": "PF-BANK", "name": "包商银行", "kind": "BANK", "events": ["sanction.listed"]},
        Keys(keys.scheme, keys.signing, keys.verifying),
        targets=TargetRule(public_only=False, https_only=True),
    )
    bank = GraphQLClient(api, mint("partner", agency="PF-BANK"))
    investigator = GraphQLClient(api, mint("investigator", agency="NMG150000"))
    _, start = _drain(bank, None)  # whatever other tests wrote before
    _, watched = _drain(investigator, None)

    (a, ra), (b, rb) = fresh_subjects(2)
    await _decide(store, "S-PF-A", a, ra, "PUBLIC")
    await _decide(store, "S-PF-B", b, rb, "RESTRICTED")  # above a bank's class
    await _decide(store, "S-PF-A", a, ra, "PUBLIC")  # decided again: a change
    await end_listing(store, CATALOGUE, "S-PF-A", "REPAIRED", date.today())

    seen, cursor = _drain(bank, start)
    assert [(e["op"], e["sanctionId"]) for e in seen] == [
        ("ADD", "S-PF-A"),
        ("MOD", "S-PF-A"),
        ("DEL", "S-PF-A"),
    ]
    assert [e["version"] for e in seen] == sorted(e["version"] for e in seen)
    assert all(e["measures"] == [{"code": "LOAN_REVIEW"}] for e in seen)  # a bank's measure
    assert seen[-1]["status"] == "REPAIRED"

    # The cursor is the feed's version, kept in the graph: another API process honours it.
    port = free_port()
    other = start_api(port, "feed-api")
    other_url = f"http://127.0.0.1:{port}"
    try:
        again, same = _drain(GraphQLClient(other_url, bank.token), cursor)
        assert again == [] and same == cursor
        replayed, _ = _drain(GraphQLClient(other_url, bank.token), start)
        assert [e["eventId"] for e in replayed] == [e["eventId"] for e in seen]
    finally:
        other.terminate()
        other.wait(timeout=15)

    cleared, _ = _drain(investigator, watched)
    assert "S-PF-B" in {e["sanctionId"] for e in cleared}  # RESTRICTED: investigators see it
    assert {m["code"] for m in cleared[0]["measures"]} > {"LOAN_REVIEW"}  # all kinds' measures


def test_an_unregistered_partner_may_not_poll(api: str, migrated: None) -> None:
    body = GraphQLClient(api, mint("partner", agency="NOT-REGISTERED")).post(FEED).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "registered" in body["errors"][0]["message"]


def test_a_forged_cursor_is_refused(api: str, migrated: None) -> None:
    body = GraphQLClient(api, mint("investigator")).post(FEED, {"a": "bm90LWEtY3Vyc29y"}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
