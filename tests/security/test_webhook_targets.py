"""Partners cannot aim the hub at its own network (SSRF), as an outsider would try it.

Registration: endpoints on loopback, private, link-local, metadata and other non-public
addresses, in every spelling, are refused with a reason, over GraphQL (an API with the rule on)
and the command line (production), and the registry is unchanged. Delivery: a name that
resolves to a non-public address is refused before any connection (the loopback partner server
sees none), dead-lettered with the reason; an operator's allowed host is delivered to; a
redirect is never followed.

No traffic leaves loopback: non-public answers for fake names come from a resolver the test
hands in, and only loopback servers ever listen.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.abc import AbstractResolver, ResolveResult
from neo4j import AsyncDriver

from connectors.delivery import run_lane
from connectors.signing import new_credentials
from connectors.targets import CheckedResolver, TargetRefused
from graph.db import Store
from graph.exchange.outbox import SHARDS
from graph.exchange.partners import Keys, find, register
from graph.records.listings import publish_listing
from hub.settings import Settings
from policies.credit.measures import Catalogue
from policies.targets import TargetRule, target_rule
from tests.conftest import GraphQLClient, free_port, hub_command, mint, start_api
from tests.listings import serious_listing
from tests.partners import Behaviour, Inbox, PartnerServer
from tests.subjects import fresh_subjects

# Every spelling of "the hub's own network" an attacker would try.
ATTACKS = [
    "http://127.0.0.1/hub-events",
    "https://127.0.0.1:8443/hub-events",
    "http://10.0.0.1/hub-events",
    "https://192.168.1.20/hub-events",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://100.64.0.7/hub-events",
    "http://[::1]/hub-events",
    "http://[::ffff:127.0.0.1]/hub-events",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[64:ff9b::a00:1]/hub-events",
    "http://[fe80::1]/hub-events",
    "http://2130706433/hub-events",
    "http://0x7f.1/hub-events",
    "http://0177.0.0.1/hub-events",
    "http://127.1/hub-events",
    "http://0.0.0.0/hub-events",
    "http://224.0.0.1/hub-events",
    "http://localhost/hub-events",
    "http://partner.localhost/hub-events",
]
FAKE_NAME = "bank.rebind.test"  # answered only by the test's resolver, never by DNS

PARTNER = "{ partners { code endpoint } }"
REGISTER = """mutation($p: PartnerInput!) { registerPartner(partner: $p) { partner { code } } }"""
UPDATE = """mutation($c: String!, $x: PartnerChange!) {
  updatePartner(code: $c, change: $x) { endpoint } }"""


def _input(code: str, endpoint: str) -> dict[str, object]:
    return {
        "code": code,
        "name": "外部伙伴",
        "kind": "BANK",
        "events": ["sanction.listed"],
        "endpoint": endpoint,
    }


@pytest.fixture(scope="module")
def guarded_api(api: str) -> Iterator[str]:
    """A second API with the address rule on (as in production; dev tokens still work)."""
    port = free_port()
    proc = start_api(port, "api-targets", HUB_WEBHOOK_PUBLIC_ONLY="true")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=15)


@pytest.fixture
def admin(guarded_api: str) -> GraphQLClient:
    return GraphQLClient(guarded_api, mint("admin", agency="NMG150000"))


def _codes(admin: GraphQLClient) -> dict[str, str | None]:
    return {p["code"]: p["endpoint"] for p in admin.data(PARTNER)["partners"]}  # type: ignore[union-attr]


def test_production_settings_turn_the_rule_on() -> None:
    assert Settings(env="production").webhook_targets == TargetRule(True, True)
    assert Settings(env="test").webhook_targets == TargetRule(False, False)
    staged = Settings(env="test", webhook_public_only=True, webhook_allowed_hosts="A.example, ::1")
    assert staged.webhook_targets == TargetRule(True, False, frozenset({"a.example", "::1"}))


def test_registering_an_internal_endpoint_is_refused_and_leaves_the_registry(
    admin: GraphQLClient,
) -> None:
    assert len(ATTACKS) > 10
    before = _codes(admin)
    for n, url in enumerate(ATTACKS):
        body = admin.post(REGISTER, {"p": _input(f"SSRF-{n}", url)}).json()
        assert body.get("data") is None, url
        error = body["errors"][0]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "non-public-endpoint"}
        assert "endpoint refused" in error["message"], error
    assert _codes(admin) == before  # nothing registered


def test_moving_a_partner_into_the_network_is_refused(admin: GraphQLClient) -> None:
    public = "https://credit.bank.example.cn/hub-events"  # a name: checked when resolved
    admin.data(REGISTER, {"p": _input("SSRF-MOVER", public)})
    for url in ATTACKS:
        body = admin.post(UPDATE, {"c": "SSRF-MOVER", "x": {"endpoint": url}}).json()
        assert body["errors"][0]["extensions"]["reason"] == "non-public-endpoint", url
    assert _codes(admin)["SSRF-MOVER"] == public
    admin.data(UPDATE, {"c": "SSRF-MOVER", "x": {"status": "DISABLED"}})


async def test_the_command_line_refuses_them_in_production(store: Store) -> None:
    production = {**os.environ, "HUB_ENV": "production"}
    for url in ("http://169.254.169.254/latest/meta-data/", "https://[::ffff:127.0.0.1]/x"):
        done = hub_command(
            "partners", "add", "SSRF-CLI", "--name", "x", "--kind", "BANK",
            "--event", "sanction.listed", "--endpoint", url, check=False, env=production,
        )  # fmt: skip
        assert done.returncode != 0 and "non-public-endpoint" in done.stderr, done.stderr
    plain = hub_command(
        "partners", "add", "SSRF-CLI", "--name", "x", "--kind", "BANK",
        "--event", "sanction.listed", "--endpoint", "http://credit.bank.example.cn/x",
        check=False, env=production,
    )  # fmt: skip
    assert plain.returncode != 0 and "https" in plain.stderr  # and https only in production
    assert await find(store, "SSRF-CLI") is None


# --- at delivery: what a name resolves to ---------------------------------------------------


class FakeDNS(AbstractResolver):
    """Answers for made-up names, as a rebinding DNS server would; nothing is looked up."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for a in self.answers[host]
        ]

    async def close(self) -> None:
        """Nothing to release."""


@pytest.mark.parametrize(
    "answer",
    [
        ["127.0.0.1"],
        ["10.0.0.1"],
        ["169.254.169.254"],
        ["fd00:ec2::254"],
        ["::ffff:10.1.2.3"],
        ["100.64.0.1"],
        ["8.8.8.8", "192.168.0.1"],  # one bad address spoils the answer: none is used
    ],
)
async def test_a_name_resolving_into_the_network_is_refused(answer: list[str]) -> None:
    dns = FakeDNS({FAKE_NAME: answer})
    resolver = CheckedResolver(TargetRule(True, True), dns)
    with pytest.raises(TargetRefused, match="non-public address"):
        await resolver.resolve(FAKE_NAME, 443)
    assert dns.asked == [FAKE_NAME]


async def test_a_name_with_public_answers_or_an_allowed_host_resolves() -> None:
    dns = FakeDNS({FAKE_NAME: ["8.8.8.8", "2001:4860:4860::8888"], "intranet.dept": ["10.9.9.9"]})
    rule = target_rule("production", False, "intranet.dept")
    resolver = CheckedResolver(rule, dns)
    assert [a["host"] for a in await resolver.resolve(FAKE_NAME, 443)] == dns.answers[FAKE_NAME]
    assert [a["host"] for a in await resolver.resolve("intranet.dept", 443)] == ["10.9.9.9"]


async def _partner(
    store: Store, catalogue: Catalogue, code: str, url: str, rule: TargetRule
) -> str:
    made = new_credentials("HMAC_SHA256")
    fields = {
        "code": code,
        "name": code,
        "kind": "BANK",
        "events": ["sanction.listed"],
        "endpoint": url,
    }
    keys = Keys(made.scheme, made.signing, made.verifying)
    # Only the events this test makes: the listings already in force are not sent.
    await register(store, catalogue, fields, keys, rule, send_active_set=False)
    return made.verifying


async def _one_event(store: Store, catalogue: Catalogue, tag: str) -> str:
    ((code, record),) = fresh_subjects(1)
    decision = serious_listing(f"S-SSRF-{tag}", code, record)
    return (await publish_listing(store, catalogue, decision)).id


async def _deliver(
    driver: AsyncDriver,
    redis: aioredis.Redis,
    catalogue: Catalogue,
    partner: str,
    rule: TargetRule,
    dns: AbstractResolver | None = None,
) -> list[dict[str, object]]:
    """Run the partner's lanes as a worker would (connectors/worker.py's client); its
    deliveries after."""
    store = Store(driver)
    connector = aiohttp.TCPConnector(resolver=CheckedResolver(rule, dns))
    async with aiohttp.ClientSession(connector=connector) as http:
        for shard in range(SHARDS):
            await run_lane(store, redis, http, catalogue, partner, shard, rule)
    records, _, _ = await driver.execute_query(
        "MATCH (d:Delivery {partner: $p}) RETURN d.status AS status, "
        "d.attempts AS attempts, d.lastError AS error, d.event AS event",
        p=partner,
    )
    return [dict(r) for r in records]


async def _retire(driver: AsyncDriver) -> None:
    """Later tests' events go to nobody here."""
    await driver.execute_query(
        "MATCH (p:Partner) WHERE p.code STARTS WITH 'SSRF-' SET p.status = 'DISABLED'"
    )


@pytest.mark.usefixtures("workers_paused")
async def test_dns_rebinding_to_loopback_is_refused_before_any_connection(
    driver: AsyncDriver, store: Store, redis: aioredis.Redis, rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    production = target_rule("production", False, "")
    server = PartnerServer(free_port(), Inbox("", Behaviour())).start()
    url = f"https://{FAKE_NAME}:{server.server_address[1]}/hub-events"  # a name: accepted now
    try:
        server.inbox.secret = await _partner(store, catalogue, "SSRF-REBIND", url, production)
        event = await _one_event(store, catalogue, "REBIND")
        dns = FakeDNS({FAKE_NAME: ["127.0.0.1"]})  # ...and later it answers with loopback
        deliveries = await _deliver(driver, redis, catalogue, "SSRF-REBIND", production, dns)
        assert [d["event"] for d in deliveries] == [event]
        (dead,) = deliveries
        assert dead["status"] == "DEAD" and dead["attempts"] == 1  # not retried: it cannot work
        assert "endpoint resolves to a non-public address" in str(dead["error"])
        assert "127.0.0.1, a loopback address" in str(dead["error"])
        assert dns.asked  # it was resolved, and refused
        assert server.inbox.connections == 0 and server.inbox.applied == []
    finally:
        server.stop()
        await _retire(driver)


@pytest.mark.usefixtures("workers_paused")
async def test_a_loopback_endpoint_is_refused_at_delivery_unless_allowed(
    driver: AsyncDriver, store: Store, redis: aioredis.Redis, rules: tuple[Path, Catalogue]
) -> None:
    """A loopback partner (registered before the rule, or by an operator's allowance) gets
    nothing under the production rule; once the operator allows 127.0.0.1, it gets its events."""
    catalogue = rules[1]
    allowed = target_rule("production", False, "127.0.0.1")
    refused = target_rule("production", False, "")
    server = PartnerServer(free_port(), Inbox("", Behaviour())).start()
    try:
        server.inbox.secret = await _partner(store, catalogue, "SSRF-LOOP", server.url, allowed)
        first = await _one_event(store, catalogue, "LOOP1")
        (dead,) = await _deliver(driver, redis, catalogue, "SSRF-LOOP", refused)
        assert dead["event"] == first and dead["status"] == "DEAD"
        assert "127.0.0.1 is a loopback address" in str(dead["error"])
        assert server.inbox.connections == 0 and server.inbox.applied == []

        second = await _one_event(store, catalogue, "LOOP2")
        states = await _deliver(driver, redis, catalogue, "SSRF-LOOP", allowed)
        assert {d["event"]: d["status"] for d in states} == {first: "DEAD", second: "DELIVERED"}
        assert server.inbox.ids == [second] and server.inbox.bad_signatures == 0
    finally:
        server.stop()
        await _retire(driver)


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def do_POST(self) -> None:
        self.send_response(307)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.mark.usefixtures("workers_paused")
async def test_a_redirect_is_not_followed(
    driver: AsyncDriver, store: Store, redis: aioredis.Redis, rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    inner = PartnerServer(free_port(), Inbox("", Behaviour())).start()  # where it points to
    handler = type("Redirect", (_Redirect,), {"target": inner.url})
    outer = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=outer.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{outer.server_address[1]}/hub-events"
    rule = target_rule("test", False, "")
    try:
        await _partner(store, catalogue, "SSRF-REDIRECT", url, rule)
        await _one_event(store, catalogue, "REDIRECT")
        (tried,) = await _deliver(driver, redis, catalogue, "SSRF-REDIRECT", rule)
        assert tried["status"] == "PENDING" and tried["error"] == "HTTP 307"
        assert inner.inbox.connections == 0
    finally:
        outer.shutdown()
        outer.server_close()
        inner.stop()
        await _retire(driver)
