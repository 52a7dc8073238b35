"""Record restrictions over the API with a real worker and partner servers: a published
idle-land record bars its subject from land auctions for its publication period, shown on the
subject and pushed to land-and-mining partners (not to banks) without any listing; it is lifted,
with an event, when the record is withdrawn, repaired or expires."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from neo4j import AsyncDriver

from graph.db import Store
from graph.records.review import expire
from policies.credit.catalogue import add_months
from policies.credit.measures import Catalogue
from tests.conftest import GraphQLClient, Workers, mint, unit_token
from tests.partner_registry import registered_partner, wait_for
from tests.subjects import fresh_subjects

UNIT = "NMG152201"
SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id } }"
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { status } }"
REPAIR = "mutation($id: String!, $why: String!) { repairRecord(id: $id, reason: $why) { status } }"
WITHDRAW = """mutation($id: String!, $why: String!) {
  proposeWithdrawal(id: $id, reason: $why) { id } }"""
SUBJECT = """query($c: String!) { subject(creditCode: $c) {
  restrictions { code name since until basedOn }
  records { id publishUntil } } }"""
FEED = """query($a: String) { sanctionFeed(first: 100, after: $a) {
  entries { op sanctionId listing measures { code } } endCursor hasNextPage } }"""
EVENTS = ["sanction.listed", "sanction.modified", "sanction.ended"]


def _idle_land(code: str, decided: date, n: int, item: str = "IDLE_LAND") -> dict[str, str]:
    return {
        "item": item,
        "subject": code,
        "tier": "GENERAL",
        "title": "闲置土地认定" if item == "IDLE_LAND" else "未按合同约定开工",
        "decidedOn": decided.isoformat(),
        "document": f"乌自然资闲〔{decided.year}〕{n}号",
        "legalBasis": "《闲置土地处置办法》第十四条",
    }


def _about(sanction: str, kind: str) -> Any:
    return lambda m: m["type"] == kind and m["data"]["sanctionId"] == sanction


async def test_idle_land_bars_land_auctions_until_the_record_goes(
    api: str, driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(store, rules[1], "RST-LAND", "LAND_MINING", EVENTS)
    bank = await registered_partner(store, rules[1], "RST-BANK", "BANK", EVENTS)
    try:
        (a, _), (b, _), (c, _) = fresh_subjects(3)
        submitter = GraphQLClient(api, unit_token("submitter", UNIT, "clerk-rst"))
        reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-rst"))
        partner = GraphQLClient(api, mint("partner", agency="RST-LAND"))
        today = date.today()

        # Published: barred for the publication period, pushed to land and mining only.
        decided = today - timedelta(days=130)  # past the GENERAL minimum: repairable
        rid = submitter.data(SUBMIT, {"r": _idle_land(a, decided, 1)})["submitRecord"]["id"]  # type: ignore[index]
        assert partner.data(SUBJECT, {"c": a})["subject"]["restrictions"] == []  # type: ignore[index]
        assert reviewer.data(APPROVE, {"id": rid})["approveRecord"]["status"] == "PUBLISHED"  # type: ignore[index]
        seen = partner.data(SUBJECT, {"c": a})["subject"]
        (barred,) = seen["restrictions"]  # type: ignore[index]
        until = add_months(decided, 12).isoformat()
        assert barred == {"code": "LAND_AUCTION_BARRED", "name": "限制参与土地竞买",
                          "since": today.isoformat(), "until": until, "basedOn": [rid]}  # fmt: skip
        sanction = f"RS-{rid}-LAND_AUCTION_BARRED"
        listed = wait_for(land.inbox, _about(sanction, "sanction.listed"))
        assert listed["data"]["listing"] == "RECORD_RESTRICTION"
        assert [m["code"] for m in listed["data"]["measures"]] == ["LAND_AUCTION_BARRED"]
        assert listed["data"]["endDate"] == until and listed["data"]["basedOn"] == [rid]
        entries = partner.every(FEED, "sanctionFeed", "entries", cursor="a")
        assert {"op": "ADD", "sanctionId": sanction, "listing": "RECORD_RESTRICTION",
                "measures": [{"code": "LAND_AUCTION_BARRED"}]} in entries  # fmt: skip

        # Repaired: lifted, and the partner is told to stop.
        reviewer.data(REPAIR, {"id": rid, "why": "已缴纳闲置费并动工开发"})
        assert partner.data(SUBJECT, {"c": a})["subject"]["restrictions"] == []  # type: ignore[index]
        ended = wait_for(land.inbox, _about(sanction, "sanction.ended"))
        assert ended["data"]["endReason"] == "REPAIRED"

        # Withdrawn (a land-contract breach this time): lifted as WITHDRAWN.
        breach = _idle_land(b, today - timedelta(days=10), 2, "LAND_CONTRACT_BREACH")
        bid = submitter.data(SUBMIT, {"r": breach})["submitRecord"]["id"]  # type: ignore[index]
        reviewer.data(APPROVE, {"id": bid})
        assert len(partner.data(SUBJECT, {"c": b})["subject"]["restrictions"]) == 1  # type: ignore[index]
        change = submitter.data(WITHDRAW, {"id": bid, "why": "出让合同违约认定已撤销"})
        reviewer.data(APPROVE, {"id": change["proposeWithdrawal"]["id"]})  # type: ignore[index]
        assert partner.data(SUBJECT, {"c": b})["subject"]["restrictions"] == []  # type: ignore[index]
        gone = wait_for(land.inbox, _about(f"RS-{bid}-LAND_AUCTION_BARRED", "sanction.ended"))
        assert gone["data"]["endReason"] == "WITHDRAWN"

        # Expired at the end of its publication period (the hourly expiry, a day on).
        last = add_months(today, -12)  # published until today
        eid = submitter.data(SUBMIT, {"r": _idle_land(c, last, 3)})["submitRecord"]["id"]  # type: ignore[index]
        reviewer.data(APPROVE, {"id": eid})
        assert partner.data(SUBJECT, {"c": c})["subject"]["restrictions"][0]["until"] == (  # type: ignore[index]
            today.isoformat()
        )
        await expire(store, rules[1], today + timedelta(days=1))
        expired = wait_for(land.inbox, _about(f"RS-{eid}-LAND_AUCTION_BARRED", "sanction.ended"))
        assert expired["data"]["endReason"] == "EXPIRED"

        # Banks apply no land-auction bar: they heard of none of it.
        assert not [m for m in bank.inbox.applied if m["data"]["listing"] == "RECORD_RESTRICTION"]
    finally:
        land.stop()
        bank.stop()
