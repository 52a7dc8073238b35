"""What an operator must act on is on ``/metrics`` (hub/http/backlog.py) and every alert rule in
ops/prometheus/alerts.yml names a metric a scrape really shows: a partner's dead letters,
waiting deliveries and lag, the queue, the audit backlog, the worker's heartbeat, and the latency
and errors of each root field."""

from __future__ import annotations

import re
import time

import httpx
import yaml
from neo4j import AsyncDriver

from hub.keys import dev_metrics_token
from hub.settings import PROJECT_ROOT, get_settings
from tests.conftest import GraphQLClient, mint

ALERTS = PROJECT_ROOT / "ops" / "prometheus" / "alerts.yml"


def _scrape(api: str) -> str:
    token = dev_metrics_token(get_settings().keys_dir)
    response = httpx.get(f"{api}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.text


def _sample(text: str, name: str, labels: str = "") -> float:
    found = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name}{labels} is not in the scrape"
    return float(found.group(1))


async def test_a_partners_dead_letters_waiting_deliveries_and_lag_are_scraped(
    api: str, driver: AsyncDriver
) -> None:
    now = time.time()
    await driver.execute_query(
        """
        MERGE (p:Partner {code: 'MET-BANK'}) SET p.status = 'ACTIVE', p.name = '计量测试银行'
        WITH p
        UNWIND [['MET-1', 'DEAD', $now - 900], ['MET-2', 'DEAD', $now - 800],
                ['MET-3', 'PENDING', $now - 600], ['MET-4', 'DELIVERED', $now - 60]] AS d
        MERGE (x:Delivery {id: d[0]})
        SET x.partner = p.code, x.status = d[1], x.createdAt = d[2], x.nextAt = $now + 3600,
            x.shard = 0, x.subject = 'MET', x.seq = 1, x.version = 1, x.attempts = 4
        """,
        now=now,
    )
    try:
        text = _scrape(api)
        partner = '{partner="MET-BANK"}'
        assert _sample(text, "hub_delivery_dead", partner) == 2
        assert _sample(text, "hub_delivery_pending", partner) == 1
        assert 600 <= _sample(text, "hub_delivery_lag_seconds", partner) < 700
        assert _sample(text, "hub_backlog_readable") == 1
        for gauge in ("hub_queue_tasks", "hub_audit_backlog", "hub_audit_dead_letters"):
            assert _sample(text, gauge) >= 0
    finally:
        await driver.execute_query(
            "MATCH (x:Delivery) WHERE x.id STARTS WITH 'MET-' DETACH DELETE x "
            "WITH count(*) AS gone MATCH (p:Partner {code: 'MET-BANK'}) DETACH DELETE p"
        )


def test_each_root_field_has_its_latency_and_errors(api: str) -> None:
    bank = GraphQLClient(api, mint("partner"))
    bank.data('{ subject(creditCode: "91110000600037341L") { name } }')
    bank.post('{ subject(creditCode: "91110000600037341X") { name } }')  # a bad check digit
    bank.post("{ madeUpField }")  # a name the schema lacks never becomes a label
    text = _scrape(api)
    assert _sample(text, "hub_graphql_field_seconds_count", '{field="subject"}') >= 2
    errors = '{code="INVALID_CREDIT_CODE",field="subject"}'
    assert _sample(text, "hub_graphql_field_errors_total", errors) >= 1
    assert 'field="madeUpField"' not in text


def test_neo4j_time_and_connections_are_scraped(api: str) -> None:
    """Each use of a pooled Neo4j connection is timed by access mode and counted while it
    lasts; the pool's size is there to compare with."""
    before = _scrape(api)
    reads = '{mode="read"}'
    counted = (
        _sample(before, "hub_neo4j_transaction_seconds_count", reads)
        if f"hub_neo4j_transaction_seconds_count{reads}" in before
        else 0.0
    )
    GraphQLClient(api, mint("partner")).data(
        '{ subject(creditCode: "91110000600037341L") { name } }'
    )
    text = _scrape(api)
    assert _sample(text, "hub_neo4j_transaction_seconds_count", reads) > counted
    assert _sample(text, "hub_neo4j_pool_size") == get_settings().neo4j_pool_size
    assert _sample(text, "hub_neo4j_connections_in_use") == 0  # none held between requests


def test_every_alert_names_metrics_a_scrape_shows(api: str) -> None:
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    assert rules, "no alert rules"
    GraphQLClient(api, mint("partner")).post('{ subject(creditCode: "x") { name } }')
    text = _scrape(api)
    families = re.findall(r"^# TYPE (hub_\w+) ", text, re.MULTILINE)  # with samples or not
    shown = {re.sub(r"_(bucket|count|sum|total)$", "", f) for f in families}
    for rule in rules:
        for name in re.findall(r"\bhub_\w+", rule["expr"]):
            base = re.sub(r"_(bucket|count|sum|total)$", "", name)
            assert base in shown, f"{rule['alert']}: {name} is not on /metrics"
