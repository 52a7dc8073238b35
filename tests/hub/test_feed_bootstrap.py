"""A partner registered today starts from what is in force: listings that entered by `hub import`
and from an outside list are in the feed like decided ones; a polling partner pages a snapshot
and follows the deltas from its cursor (nothing missed, nothing twice), and a partner with an
endpoint receives the active set as signed webhooks."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from neo4j import AsyncDriver

from graph.db import Store
from graph.exchange.feeds import FeedRow, apply_snapshot
from graph.records.listings import publish_listing
from graph.rights.objected import Target, tell_in
from policies.credit.measures import default_measures
from tests.conftest import TEST_DATA, GraphQLClient, Workers, hub_command, import_file, mint
from tests.listings import court_feed, serious_listing
from tests.partners import Behaviour, Inbox, PartnerServer
from tests.subjects import fresh_subjects

CATALOGUE = default_measures()
REGISTER = """mutation($p: PartnerInput!) { registerPartner(partner: $p) {
  verifyingKey partner { code } } }"""
SNAPSHOT = """query($a: String, $n: Int) { sanctionSnapshot(after: $a, first: $n) {
  entries { cursor op eventId sanctionId creditCode listing status measures { code } }
  asOfVersion endCursor hasNextPage feedCursor } }"""
FEED = """query($a: String, $n: Int) { sanctionFeed(after: $a, first: $n) {
  entries { op eventId sanctionId } endCursor hasNextPage } }"""
COURT = court_feed("TEST-BOOT-COURT")


def _import(tag: str, rows: list[dict[str, Any]]) -> None:
    path = TEST_DATA / f"boot-{tag}.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    import_file(path)


def _sanction(sanction: str, subject: str, record: str, status: str = "ACTIVE") -> dict[str, Any]:
    return {
        "kind": "Sanction",
        "id": sanction,
        "subject": subject,
        "authority": "NMG152201",
        "basedOn": [record],
        "listing": "SERIOUS_DISHONESTY",
        "startDate": "2026-06-10",
        "endDate": "2029-06-09",
        "status": status,
        "disclosure": "PUBLIC",
    }


async def _outside_list(store: Store, subject: str, case: str) -> str:
    """The court's list, pulled with one entry; the id of the listing it made."""
    row = FeedRow(1, f"{COURT.code}:{case}", subject, None, date(2026, 5, 1), None, case, "某法院")
    report = await apply_snapshot(store, CATALOGUE, COURT, [row], [], date.today())
    assert report.listed == 1, report
    return row.sanction_id


def _register(api: str, code: str, endpoint: str | None = None) -> str:
    admin = GraphQLClient(api, mint("admin"))
    partner = {
        "code": code,
        "name": "内蒙古测试银行",
        "kind": "BANK",
        "events": ["sanction.listed", "sanction.modified", "sanction.ended"],
        "endpoint": endpoint,
        "clearance": "SHARED",
    }
    made: Any = admin.data(REGISTER, {"p": partner})
    return str(made["registerPartner"]["verifyingKey"])


async def test_a_partner_registered_today_pages_the_active_set_then_follows_the_deltas(
    api: str, migrated: None, driver: AsyncDriver, store: Store
) -> None:
    (a, ra), (b, rb), (c, _), (d, rd) = fresh_subjects(4)
    # Two listings loaded by `hub import`, one by an outside list: none decided in the hub.
    _import("1", [_sanction(f"S-BOOT-{a[-6:]}", a, ra), _sanction(f"S-BOOT-{b[-6:]}", b, rb)])
    court = await _outside_list(store, c, "（2026）蒙0102执1号")

    code = f"BOOT-BANK-{int(time.time() * 1000) % 10**8}"
    _register(api, code)
    bank = GraphQLClient(api, mint("partner", agency=code))

    # The snapshot, two at a time; meanwhile one listing is decided and one imported one ends.
    first: Any = bank.data(SNAPSHOT, {"n": 2})["sanctionSnapshot"]
    await publish_listing(
        store,
        CATALOGUE,
        serious_listing(f"S-BOOT-{d[-6:]}", d, rd),
    )
    _import("2", [_sanction(f"S-BOOT-{a[-6:]}", a, ra, status="ENDED")])

    entries, page = list(first["entries"]), first
    while page["hasNextPage"]:
        page = bank.data(SNAPSHOT, {"a": page["endCursor"], "n": 2})["sanctionSnapshot"]  # type: ignore[assignment]
        assert page["asOfVersion"] == first["asOfVersion"]  # one snapshot, however long it pages
        entries += page["entries"]
    snapshot = {e["sanctionId"]: e for e in entries}
    assert len(snapshot) == len(entries)  # each listing once
    assert {f"S-BOOT-{a[-6:]}", f"S-BOOT-{b[-6:]}", court} <= set(snapshot)
    assert f"S-BOOT-{d[-6:]}" not in snapshot  # decided after the snapshot's version
    assert all(e["op"] == "ADD" and e["status"] == "ACTIVE" for e in entries)
    assert all(e["measures"] == [{"code": "LOAN_REVIEW"}] for e in entries)  # a bank's measure
    assert snapshot[court]["listing"] == "DISHONEST_JUDGMENT_DEBTOR"

    # Then the deltas from the snapshot's version: exactly what changed since.
    deltas, cursor = [], page["feedCursor"]
    while True:
        feed: Any = bank.data(FEED, {"a": cursor, "n": 50})["sanctionFeed"]
        deltas += feed["entries"]
        cursor = feed["endCursor"]
        if not feed["hasNextPage"]:
            break
    mine = [(e["op"], e["sanctionId"]) for e in deltas if e["sanctionId"].startswith("S-BOOT-")]
    assert mine == [("ADD", f"S-BOOT-{d[-6:]}"), ("DEL", f"S-BOOT-{a[-6:]}")]
    assert not {e["eventId"] for e in deltas} & {e["eventId"] for e in entries}

    # Run again, the backfill finds nothing left to announce.
    again = hub_command("outbox", "backfill").stderr
    assert "0 announced as listed, 0 as ended" in again, again


async def test_a_partner_with_an_endpoint_receives_the_active_set_when_registered(
    api: str, migrated: None, driver: AsyncDriver, store: Store, workers: Workers, tmp_path: Path
) -> None:
    (a, ra), (c, _) = fresh_subjects(2)
    _import("3", [_sanction(f"S-BOOT-{a[-6:]}", a, ra)])
    court = await _outside_list(store, c, "（2026）蒙0102执2号")

    inbox = Inbox("", Behaviour())
    server = PartnerServer(0, inbox).start()
    code = f"BOOT-HOOK-{int(time.time() * 1000) % 10**8}"
    try:
        inbox.secret = _register(api, code, server.url)
        wanted = {f"S-BOOT-{a[-6:]}", court}
        deadline = time.monotonic() + 30
        while not wanted <= {m["data"]["sanctionId"] for m in list(inbox.applied)}:
            assert time.monotonic() < deadline, inbox.applied
            await asyncio.sleep(0.25)
        received = [m["data"]["sanctionId"] for m in inbox.applied]
        assert len(received) == len(set(received))  # the active set once each
    finally:
        server.stop()
        await driver.execute_query("MATCH (p:Partner {code: $c}) SET p.status = 'DISABLED'", c=code)


async def test_a_listing_under_objection_stays_in_the_active_set_as_the_listing_it_is(
    api: str, migrated: None, driver: AsyncDriver, store: Store, workers: Workers
) -> None:
    """An objection to a listing writes a ``record.objected`` event naming the listing; the
    snapshot, a new partner's webhooks and the backfill still read the listing's own last
    change of state, not that mark."""
    (a, ra), = fresh_subjects(1)  # fmt: skip
    listing = f"S-BOOT-OBJ-{a[-6:]}"
    await publish_listing(store, CATALOGUE, serious_listing(listing, a, ra))
    target = Target("LISTING", listing, a, "PUBLIC")
    await store.write(tell_in, CATALOGUE, target, f"OB-BOOT-{a[-6:]}", True)  # its last event

    code = f"BOOT-OBJ-{int(time.time() * 1000) % 10**8}"
    inbox = Inbox("", Behaviour())
    server = PartnerServer(0, inbox).start()
    try:
        inbox.secret = _register(api, code, server.url)
        bank = GraphQLClient(api, mint("partner", agency=code))
        page: Any = bank.data(SNAPSHOT, {"n": 100})["sanctionSnapshot"]
        entries = list(page["entries"])
        while page["hasNextPage"]:
            page = bank.data(SNAPSHOT, {"a": page["endCursor"], "n": 100})["sanctionSnapshot"]
            entries += page["entries"]
        assert entries
        mine = [e for e in entries if e["sanctionId"] == listing]
        assert [(e["op"], e["listing"], e["status"]) for e in mine] == [
            ("ADD", "SERIOUS_DISHONESTY", "ACTIVE")
        ]
        deadline = time.monotonic() + 30
        while listing not in {m["data"].get("sanctionId") for m in list(inbox.applied)}:
            assert time.monotonic() < deadline, inbox.applied
            await asyncio.sleep(0.25)
        sent = [m for m in inbox.applied if m["data"].get("sanctionId") == listing]
        assert [m["type"] for m in sent] == ["sanction.listed"]
    finally:
        server.stop()
        await driver.execute_query("MATCH (p:Partner {code: $c}) SET p.status = 'DISABLED'", c=code)

    again = hub_command("outbox", "backfill").stderr
    assert "0 announced as listed, 0 as ended" in again, again
