"""The outbox's fan-out: an event becomes a delivery for exactly the partners that must hear of
it (active, with an endpoint, subscribed, of a kind its measures go to, cleared for it), in the
same transaction as the change, numbered for the feed and per subject."""

from __future__ import annotations

import time
from datetime import date

import pytest
from neo4j import AsyncDriver

from connectors.signing import new_credentials
from graph.db import Store
from graph.exchange.outbox import SHARDS, Outcome, due, settle
from graph.exchange.partners import Keys, PartnerError, register
from graph.records.listings import ListingError, end_listing, publish_listing
from policies.credit.measures import default_measures
from policies.targets import TargetRule
from tests.listings import serious_listing
from tests.subjects import fresh_subjects

CATALOGUE = default_measures()


async def _register(store: Store, partner: str, **fields: object) -> None:
    keys = new_credentials("HMAC_SHA256")
    defaults: dict[str, object] = {
        "code": partner,
        "name": partner,
        "kind": "BANK",
        "endpoint": "https://bank.example.cn/hub",
        "events": ["sanction.listed", "sanction.ended"],
    }
    await register(
        store,
        CATALOGUE,
        {**defaults, **fields},
        Keys(keys.scheme, keys.signing, keys.verifying),
        targets=TargetRule(public_only=False, https_only=True),
    )


async def _deliveries(driver: AsyncDriver, event: str) -> set[str]:
    records, _, _ = await driver.execute_query(
        "MATCH (d:Delivery {event: $e}) RETURN d.partner AS p", e=event
    )
    return {r["p"] for r in records if r["p"].startswith("FO-")}


async def test_fan_out_follows_kind_subscription_clearance_and_status(
    driver: AsyncDriver, store: Store
) -> None:
    await _register(store, "FO-BANK")
    await _register(store, "FO-COURT", kind="JUDICIAL")  # no measure of a listing is theirs
    await _register(store, "FO-ENDS-ONLY", events=["sanction.ended"])
    await _register(store, "FO-PAUSED", status="PAUSED")
    await _register(store, "FO-POLLS", endpoint=None)  # reads the feed instead
    await _register(store, "FO-PUBLIC", clearance="PUBLIC")
    ((code, record),) = fresh_subjects(1)
    today = date.today()
    decision = serious_listing("S-FO-1", code, record, "SHARED")
    listed = await publish_listing(store, CATALOGUE, decision)
    assert await _deliveries(driver, listed.id) == {"FO-BANK"}
    again = await publish_listing(store, CATALOGUE, decision)  # already active
    records, _, _ = await driver.execute_query(
        "MATCH (e:OutboxEvent {id: $id}) RETURN e.type AS t, e.seq AS seq, e.version AS v",
        id=again.id,
    )
    assert records[0]["t"] == "sanction.modified" and records[0]["seq"] == listed.seq + 1
    assert again.version > listed.version
    ended = await end_listing(store, CATALOGUE, "S-FO-1", "REPAIRED", today)
    assert ended is not None
    assert await _deliveries(driver, ended.id) == {"FO-BANK", "FO-ENDS-ONLY"}
    assert await end_listing(store, CATALOGUE, "S-FO-1", "REPAIRED", today) is None
    await driver.execute_query(
        "MATCH (p:Partner) WHERE p.code STARTS WITH 'FO-' SET p.status = 'DISABLED'"
    )


async def test_a_listing_without_published_grounds_writes_nothing(
    driver: AsyncDriver, store: Store
) -> None:
    ((code, _),) = fresh_subjects(1)
    decision = serious_listing("S-FO-2", code, "R-NO-SUCH")
    with pytest.raises(ListingError):
        await publish_listing(store, CATALOGUE, decision)
    records, _, _ = await driver.execute_query(
        "OPTIONAL MATCH (n:Sanction {id: 'S-FO-2'}) "
        "RETURN n IS NULL AS none, COUNT { (:OutboxEvent {subject: $c}) } AS events",
        c=code,
    )
    assert records[0]["none"] and records[0]["events"] == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"kind": "POLICE"}, "unknown-kind"),
        ({"events": ["sanction.deleted"]}, "unknown-event"),
        ({"endpoint": "http://bank.example.cn/hub"}, "invalid-endpoint"),
        ({"endpoint": "ftp://bank.example.cn/hub"}, "invalid-endpoint"),
        ({"clearance": "CONFIDENTIAL"}, "invalid-clearance"),
        ({"code": "x"}, "invalid-code"),
    ],
)
async def test_registry_refuses_bad_partners(
    store: Store, fields: dict[str, object], reason: str
) -> None:
    with pytest.raises(PartnerError) as refused:
        await _register(store, "FO-BAD", **fields)
    assert refused.value.reason == reason


async def test_a_code_is_registered_once(store: Store) -> None:
    await _register(store, "FO-ONCE", status="DISABLED")
    with pytest.raises(PartnerError) as refused:
        await _register(store, "FO-ONCE")
    assert refused.value.reason == "exists"


@pytest.mark.usefixtures("workers_paused")  # the session's worker must not take this lane
async def test_a_lane_gives_each_subject_its_next_event_only_after_the_earlier_one(
    driver: AsyncDriver, store: Store
) -> None:
    """What a runner posts at once spans subjects, never two events of one: a subject's next
    event is not due while the earlier one is in flight, and comes back in the same statement
    that records the earlier one delivered; a failed one is due again after its backoff, with
    its attempt counted."""
    keys = new_credentials("HMAC_SHA256")
    await register(  # only this test's events: not the listings in force
        store,
        CATALOGUE,
        {
            "code": "FO-LANE",
            "name": "FO-LANE",
            "kind": "BANK",
            "endpoint": "https://bank.example.cn/hub",
            "events": ["sanction.listed", "sanction.ended"],
        },
        Keys(keys.scheme, keys.signing, keys.verifying),
        targets=TargetRule(public_only=False, https_only=True),
        send_active_set=False,
    )
    subjects = fresh_subjects(6)
    for code, record in subjects:  # two events a subject: listed, then ended
        await publish_listing(store, CATALOGUE, serious_listing(f"S-FO-L{code[-6:]}", code, record))
    for code, _ in subjects:
        assert await end_listing(store, CATALOGUE, f"S-FO-L{code[-6:]}", "REPAIRED", date.today())
    now = time.time()
    lanes = {shard: await due(store, "FO-LANE", shard, now, 100) for shard in range(SHARDS)}
    lanes = {shard: items for shard, items in lanes.items() if items}
    firsts = [item for items in lanes.values() for item in items]
    assert sorted(item.subject for item in firsts) == sorted(code for code, _ in subjects)
    assert {item.type for item in firsts} == {"sanction.listed"}
    for shard, items in lanes.items():
        busy = [item.id for item in items]
        assert await due(store, "FO-LANE", shard, now, 100, busy) == []  # posted, not yet back
        ok = [Outcome(item.id, True, 204, None, 0.0) for item in items]
        nexts = await settle(store, "FO-LANE", shard, ok, now, 8, 100)
        assert sorted(n.subject for n in nexts) == sorted(item.subject for item in items)
        assert {n.type for n in nexts} == {"sanction.ended"}
        failed = [Outcome(n.id, False, 500, "HTTP 500", 60.0) for n in nexts]
        assert await settle(store, "FO-LANE", shard, failed, now, 8, 100) == []  # backing off
        again = await due(store, "FO-LANE", shard, now + 61, 100)
        assert [(a.id, a.attempts) for a in again] == [(n.id, 1) for n in nexts]
    await driver.execute_query("MATCH (p:Partner {code: 'FO-LANE'}) SET p.status = 'DISABLED'")
