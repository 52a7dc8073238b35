"""双公示: an administrative penalty or licence published through review reaches the regional
public credit platform as a signed `record.published` webhook, retried when the platform fails,
through the real worker; a record outside the 7-working-day rule is not pushed, a bank hears of
none of them, and the sanction feed stays a feed of sanctions."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from pathlib import Path

from neo4j import AsyncDriver

from graph.db import Store
from policies.credit.measures import Catalogue
from tests.conftest import GraphQLClient, Workers, mint, unit_token
from tests.partner_registry import register_partner
from tests.partners import Behaviour, Inbox, PartnerServer
from tests.subjects import fresh_subjects

SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id status } }"
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { status } }"
FEED = """query($a: String) { sanctionFeed(after: $a, first: 100) {
  entries { eventId sanctionId } endCursor } }"""


async def test_published_penalties_and_licences_reach_the_regional_platform(
    api: str, driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    assert "REGIONAL_CREDIT_PLATFORM" in catalogue.record_kinds
    platform_inbox = Inbox("", Behaviour(fail_first=2))  # the platform fails twice first
    bank_inbox = Inbox("", Behaviour())
    platform = PartnerServer(0, platform_inbox).start()
    bank = PartnerServer(0, bank_inbox).start()
    stamp = int(time.time() * 1000) % 10**8
    codes = (f"PUB-PLATFORM-{stamp}", f"PUB-BANK-{stamp}")
    try:
        platform_inbox.secret = await register_partner(
            store, catalogue, codes[0], "REGIONAL_CREDIT_PLATFORM", platform.url,
            ["record.published"],
        )  # fmt: skip
        bank_inbox.secret = await register_partner(
            store, catalogue, codes[1], "BANK", bank.url, ["record.published", "sanction.listed"]
        )
        ((subject, _),) = fresh_subjects(1)
        unit = "NMG152201"
        submitter = GraphQLClient(api, unit_token("submitter", unit, "pub-clerk"))
        reviewer = GraphQLClient(api, unit_token("reviewer", unit, "pub-reviewer"))
        analyst = GraphQLClient(api, mint("investigator", agency="NMG150000"))
        before = analyst.data(FEED, {"a": None})["sanctionFeed"]["endCursor"]  # type: ignore[index]
        decided = date.today() - timedelta(days=2)
        records = {
            "ADMIN_PENALTY": {"tier": "GENERAL", "title": "违法占地行政处罚"},
            "ADMIN_LICENCE": {"title": "采矿许可证延续"},
            "REGISTRATION": {"title": "变更登记"},  # not under the working-day rule
        }
        ids = {}
        for n, (item, extra) in enumerate(records.items(), start=1):
            record = {
                "item": item,
                "subject": subject,
                "decidedOn": decided.isoformat(),
                "document": f"乌自然资〔{decided.year}〕公示{stamp}-{n}号",
                "legalBasis": "《中华人民共和国土地管理法》",
                **extra,
            }
            made = submitter.data(SUBMIT, {"r": record})["submitRecord"]
            ids[item] = made["id"]  # type: ignore[index]
            approved = reviewer.data(APPROVE, {"id": ids[item]})["approveRecord"]
            assert approved["status"] == "PUBLISHED"  # type: ignore[index]

        wanted = {ids["ADMIN_PENALTY"], ids["ADMIN_LICENCE"]}
        deadline = time.monotonic() + 40
        while {m["data"]["recordId"] for m in platform_inbox.applied} != wanted:
            assert time.monotonic() < deadline, platform_inbox.applied
            await asyncio.sleep(0.25)
        got = {m["data"]["recordId"]: m for m in platform_inbox.applied}
        penalty = got[ids["ADMIN_PENALTY"]]
        assert penalty["type"] == "record.published"
        assert penalty["data"]["creditCode"] == subject
        assert penalty["data"]["itemName"] == "行政处罚信息"
        assert penalty["data"]["publishDeadline"] > decided.isoformat()  # 7 working days on
        assert platform_inbox.copies[penalty["id"]] == 3  # two failures, then delivered
        await asyncio.sleep(1)
        assert ids["REGISTRATION"] not in {m["data"]["recordId"] for m in platform_inbox.applied}
        assert bank_inbox.applied == [] and bank_inbox.connections == 0  # not a bank's business
        after = analyst.data(FEED, {"a": before})["sanctionFeed"]["entries"]  # type: ignore[index]
        published = {m["id"] for m in platform_inbox.applied}
        assert published  # the records' own events, as the platform received them
        # Records stay out of the sanction feed (other tests' grade changes may be in it).
        assert not published & {e["eventId"] for e in after}
    finally:
        platform.stop()
        bank.stop()
        await driver.execute_query(
            "MATCH (p:Partner) WHERE p.code IN $codes SET p.status = 'DISABLED'", codes=list(codes)
        )
