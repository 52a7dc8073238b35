"""Admins run the partners registry over GraphQL: register (the key shown once), change, pause,
rotate keys, read delivery state, replay; every other role is refused, and bad input is named."""

from __future__ import annotations

import json

import pytest
from neo4j import AsyncDriver

from graph.db import Store
from graph.records.listings import publish_listing
from policies.credit.measures import default_measures
from tests.conftest import GraphQLClient, hub_command, mint
from tests.listings import serious_listing
from tests.subjects import fresh_subjects

PARTNER = """fragment P on PartnerInfo {
  code name kind endpoint events clearance scheme publicKey status pending delivered dead
}"""
REGISTER = (
    PARTNER
    + """
mutation($p: PartnerInput!) { registerPartner(partner: $p) { verifyingKey partner { ...P } } }"""
)
UPDATE = (
    PARTNER
    + """
mutation($c: String!, $x: PartnerChange!) { updatePartner(code: $c, change: $x) { ...P } }"""
)
ROTATE = """mutation($c: String!, $s: SigningScheme) {
  rotatePartnerKeys(code: $c, scheme: $s) { verifyingKey partner { scheme publicKey } } }"""
LIST = PARTNER + "{ partners { ...P } }"
DELIVERIES = """query($c: String!, $s: DeliveryStatus, $e: String, $n: Int, $a: String) {
  deliveries(partner: $c, status: $s, event: $e, first: $n, after: $a) {
    items { event type subject status attempts lastError } endCursor hasNextPage } }"""
REPLAY = "mutation($c: String!, $t: DateTime!) { replayPartner(code: $c, since: $t) }"


@pytest.fixture
def admin(api: str, migrated: None) -> GraphQLClient:
    return GraphQLClient(api, mint("admin", agency="NMG150000"))


def _input(partner: str, **changes: object) -> dict[str, object]:
    return {
        "code": partner,
        "name": "内蒙古农村信用社联合社",
        "kind": "BANK",
        "events": ["sanction.listed", "sanction.ended"],
        "endpoint": "https://credit.nmgnxs.example.cn/hub-events",
        **changes,
    }


def test_register_shows_the_key_once_and_lists_without_it(admin: GraphQLClient) -> None:
    made = admin.data(REGISTER, {"p": _input("PA-BANK")})["registerPartner"]
    assert made["verifyingKey"].startswith("whsec_")  # type: ignore[index]
    assert made["partner"]["status"] == "ACTIVE" and made["partner"]["clearance"] == "SHARED"  # type: ignore[index]
    listed = {p["code"]: p for p in admin.data(LIST)["partners"]}  # type: ignore[union-attr]
    assert listed["PA-BANK"]["publicKey"] is None  # an HMAC secret is never read back
    assert "whsec_" not in str(listed)
    again = admin.post(REGISTER, {"p": _input("PA-BANK")}).json()["errors"][0]["extensions"]
    assert again["code"] == "CONFLICT" and again["reason"] == "exists"


def test_ed25519_partners_get_a_public_key(admin: GraphQLClient) -> None:
    made = admin.data(REGISTER, {"p": _input("PA-ED", scheme="ED25519")})["registerPartner"]
    assert made["verifyingKey"].startswith("whpk_")  # type: ignore[index]
    assert made["partner"]["publicKey"] == made["verifyingKey"]  # type: ignore[index]
    rotated = admin.data(ROTATE, {"c": "PA-ED", "s": "HMAC_SHA256"})["rotatePartnerKeys"]
    assert rotated["verifyingKey"].startswith("whsec_")  # type: ignore[index]
    assert rotated["partner"] == {"scheme": "HMAC_SHA256", "publicKey": None}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"kind": "POLICE"}, "unknown-kind"),
        ({"events": ["sanction.deleted"]}, "unknown-event"),
        ({"endpoint": "not a url"}, "invalid-endpoint"),
        ({"clearance": "CONFIDENTIAL"}, "invalid-clearance"),
        ({"code": "lower-case"}, "invalid-code"),
    ],
)
def test_bad_partners_are_refused_with_a_reason(
    admin: GraphQLClient, changes: dict[str, object], reason: str
) -> None:
    error = admin.post(REGISTER, {"p": _input("PA-BAD", **changes)}).json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": reason}
    assert "PA-BAD" not in {p["code"] for p in admin.data(LIST)["partners"]}  # type: ignore[union-attr]


async def test_pause_deliveries_and_replay(
    admin: GraphQLClient, driver: AsyncDriver, store: Store
) -> None:
    admin.data(REGISTER, {"p": _input("PA-WATCH")})
    # Registered, it is sent the listings in force first (graph/exchange/snapshot.py):
    # whatever other tests listed before.
    initial = {p["code"]: p for p in admin.data(LIST)["partners"]}["PA-WATCH"]["pending"]  # type: ignore[union-attr]
    paused = admin.data(UPDATE, {"c": "PA-WATCH", "x": {"status": "PAUSED"}})["updatePartner"]
    assert paused["status"] == "PAUSED"  # type: ignore[index]
    admin.data(UPDATE, {"c": "PA-WATCH", "x": {"status": "ACTIVE"}})
    catalogue = default_measures()
    for n, (code, record) in enumerate(fresh_subjects(3)):
        await publish_listing(
            store,
            catalogue,
            serious_listing(f"S-PA-{n}", code, record),
        )
    first = admin.data(DELIVERIES, {"c": "PA-WATCH", "n": 2})["deliveries"]
    assert len(first["items"]) == 2 and first["hasNextPage"] is True  # type: ignore[index,arg-type]
    rest = admin.data(DELIVERIES, {"c": "PA-WATCH", "n": 99, "a": first["endCursor"]})["deliveries"]  # type: ignore[index]
    events = [d["event"] for d in first["items"] + rest["items"]]  # type: ignore[index,operator]
    assert len(set(events)) == 3 + initial and rest["hasNextPage"] is False  # type: ignore[index,operator]
    assert {d["type"] for d in first["items"]} == {"sanction.listed"}  # type: ignore[index]
    one = admin.data(DELIVERIES, {"c": "PA-WATCH", "e": events[0]})["deliveries"]
    assert [d["event"] for d in one["items"]] == [events[0]]  # type: ignore[index]
    await driver.execute_query(
        "MATCH (d:Delivery {partner: 'PA-WATCH'}) SET d.status = 'DEAD', d.lastError = 'HTTP 500'"
    )
    dead = admin.data(DELIVERIES, {"c": "PA-WATCH", "s": "DEAD", "n": 100})["deliveries"]
    assert [d["lastError"] for d in dead["items"]] == ["HTTP 500"] * min(3 + initial, 100)  # type: ignore[index,operator]
    queued = admin.data(REPLAY, {"c": "PA-WATCH", "t": "2000-01-01T00:00:00+08:00"})
    assert queued["replayPartner"] >= 3
    counts = {p["code"]: p for p in admin.data(LIST)["partners"]}["PA-WATCH"]  # type: ignore[union-attr]
    assert counts["dead"] == 0 and counts["pending"] >= 3
    admin.data(UPDATE, {"c": "PA-WATCH", "x": {"status": "DISABLED"}})


@pytest.mark.parametrize(
    "query",
    [LIST, DELIVERIES, REGISTER, UPDATE, ROTATE, REPLAY],
)
def test_only_admins_manage_partners(api: str, migrated: None, query: str) -> None:
    variables = {
        "c": "PA-BANK",
        "p": _input("PA-X"),
        "x": {"status": "PAUSED"},
        "t": "2026-01-01T00:00:00+08:00",
    }
    for role in ("partner", "investigator", "submitter", "reviewer"):
        body = GraphQLClient(api, mint(role)).post(query, variables).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role


def test_the_command_line_registers_pauses_rotates_and_replays(admin: GraphQLClient) -> None:
    key = hub_command(
        "partners",
        "add",
        "PA-CLI",
        "--name",
        "自治区公共资源交易中心",
        "--kind",
        "BIDDING",
        "--event",
        "sanction.listed",
        "--endpoint",
        "https://ggzy.example.cn/hub",
    ).stdout.strip()
    assert key.startswith("whsec_")
    hub_command("partners", "set", "PA-CLI", "--status", "PAUSED")
    listed = {p["code"]: p for p in json.loads(hub_command("partners", "list").stdout)}
    assert listed["PA-CLI"]["status"] == "PAUSED" and "whsec_" not in str(listed)
    rotated = hub_command("partners", "rotate", "PA-CLI", "--scheme", "ED25519").stdout.strip()
    assert rotated.startswith("whpk_")
    bad = hub_command("partners", "set", "PA-CLI", "--status", "GONE", check=False)
    assert bad.returncode == 1 and "invalid-status" in bad.stderr
    late = hub_command("partners", "replay", "PA-CLI", "--since", "2026-01-01", check=False)
    assert late.returncode == 1 and "time zone" in late.stderr
    hub_command("partners", "set", "PA-CLI", "--status", "DISABLED")
