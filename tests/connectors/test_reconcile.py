"""Partners report the measures they apply (POST /feedback and GraphQL), and the reconciliation
re-sends what their reports and the hub's listings disagree on: a listing they never reported
applying, and the end of one they still apply. Real worker, real partner server on loopback."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path

import httpx
from neo4j import AsyncDriver

from connectors.signing import new_credentials
from graph.db import Store
from graph.exchange.feedback import reconcile
from graph.exchange.partners import Keys, register
from graph.records.listings import end_listing, publish_listing
from policies.credit.measures import Catalogue
from policies.targets import TargetRule
from tests.conftest import GraphQLClient, Workers, free_port, mint
from tests.listings import serious_listing
from tests.partners import Behaviour, Inbox, PartnerServer
from tests.subjects import fresh_subjects

REPORT = """mutation($s: String!, $m: String!, $a: Boolean!) {
  reportMeasure(sanctionId: $s, measure: $m, applied: $a) }"""


async def _feedback(api: str, token: str, body: dict[str, object]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{api}/feedback", json=body, headers={"Authorization": f"Bearer {token}"}
        )


async def _wait(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out; see logs/delivery-worker.log"
        await asyncio.sleep(0.1)


async def test_reports_and_reconciliation(
    api: str, driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    keys = new_credentials("HMAC_SHA256")
    server = PartnerServer(free_port(), Inbox(keys.verifying, Behaviour())).start()
    await register(
        store,
        catalogue,
        {
            "code": "RC-LAND",
            "name": "盟不动产登记中心",
            "kind": "LAND_MINING",
            "events": ["sanction.listed", "sanction.ended"],
            "endpoint": server.url,
        },
        Keys(keys.scheme, keys.signing, keys.verifying),
        targets=TargetRule(public_only=False, https_only=True),
        send_active_set=False,  # this test counts only the events it makes
    )
    token = mint("partner", agency="RC-LAND")
    try:
        (a, ra), (b, rb) = fresh_subjects(2)
        today = date.today()
        for sanction, subject, record in (("S-RC-A", a, ra), ("S-RC-B", b, rb)):
            await publish_listing(
                store,
                catalogue,
                serious_listing(sanction, subject, record),
            )
        await _wait(lambda: len(server.inbox.ids) == 2)

        # The partner applies A's auction bar, over REST; bad reports are refused and named.
        sent = await _feedback(
            api, token, {"sanctionId": "S-RC-A", "measure": "LAND_AUCTION_BARRED", "applied": True}
        )
        assert sent.status_code == 200 and sent.json() == {"recorded": True}
        wrong = await _feedback(
            api, token, {"sanctionId": "S-RC-A", "measure": "LOAN_REVIEW", "applied": True}
        )
        assert wrong.status_code == 400
        assert wrong.json()["errors"][0]["extensions"]["reason"] in (
            "unknown-measure",
            "not-your-measure",
        )
        unknown = await _feedback(
            api,
            token,
            {"sanctionId": "S-NO-SUCH", "measure": "LAND_AUCTION_BARRED", "applied": True},
        )
        assert unknown.status_code == 404
        bank = await _feedback(
            api,
            mint("investigator"),
            {"sanctionId": "S-RC-A", "measure": "LAND_AUCTION_BARRED", "applied": True},
        )
        assert bank.status_code == 403

        # A's end never reaches the partner (dead-lettered while it was away).
        await driver.execute_query("MATCH (p:Partner {code: 'RC-LAND'}) SET p.status = 'PAUSED'")
        ended = await end_listing(store, catalogue, "S-RC-A", "REPAIRED", today)
        assert ended is not None
        await driver.execute_query(
            "MATCH (d:Delivery {id: $id}) SET d.status = 'DEAD', d.lastError = 'HTTP 503'",
            id=f"{ended.id}|RC-LAND",
        )
        await driver.execute_query("MATCH (p:Partner {code: 'RC-LAND'}) SET p.status = 'ACTIVE'")

        found = await reconcile(store, catalogue, "RC-LAND", grace=0)
        assert (found.unapplied, found.stale) == (1, 1)  # B never reported; A still applied
        await _wait(lambda: ended.id in server.inbox.ids)  # the end, sent again
        b_listed = next(
            m["id"] for m in server.inbox.applied if m["data"]["sanctionId"] == "S-RC-B"
        )
        await _wait(lambda: server.inbox.copies[b_listed] == 2)  # B's listing, sent again

        partner = GraphQLClient(api, token)
        assert partner.data(REPORT, {"s": "S-RC-B", "m": "MINING_RIGHT_BARRED", "a": True})
        partner.data(REPORT, {"s": "S-RC-A", "m": "LAND_AUCTION_BARRED", "a": False})
        settled = await reconcile(store, catalogue, "RC-LAND", grace=0)
        assert (settled.unapplied, settled.stale) == (0, 0)
    finally:
        server.stop()
        await driver.execute_query("MATCH (p:Partner {code: 'RC-LAND'}) SET p.status = 'DISABLED'")
