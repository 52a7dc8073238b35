"""Neo4j goes away and comes back: the API says UNAVAILABLE, then recovers by itself."""

from __future__ import annotations

import time

import httpx

from tests.conftest import GraphQLClient, Neo4jServer

QUERY = '{ subject(creditCode: "91110000600037341L") { name } }'


def test_api_recovers_after_neo4j_restart(
    partner: GraphQLClient, neo4j_server: Neo4jServer
) -> None:
    assert partner.data(QUERY) == {"subject": None}
    neo4j_server.stop()
    try:
        body = partner.post(QUERY).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert httpx.get(f"{partner.base}/readyz", timeout=10).status_code == 503
    finally:
        neo4j_server.start()
    deadline = time.monotonic() + 30
    while True:
        body = partner.post(QUERY).json()
        if not body.get("errors"):
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.5)
    assert body["data"] == {"subject": None}
    assert httpx.get(f"{partner.base}/readyz", timeout=10).status_code == 200
