"""A query past its time limit: the caller's to narrow on a warm store (LIMIT_EXCEEDED), the
store's doing right after an outage (UNAVAILABLE, to retry), as the soak found a cold Neo4j
answering a plain lookup past its limit (bench/RESULTS.md, "Soak")."""

from __future__ import annotations

import math

import pytest

from graph.db import Neo4jConfig, Store, connect
from hub import errors
from hub.errors import HubError, backing_services
from tests.conftest import free_port

# Runs for seconds on any machine: past a half-second limit, which Neo4j enforces within the
# interval its transaction monitor checks at (2 s by default).
SLOW = "UNWIND range(1, 400000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*) AS n"


async def _code_of(store: Store, cypher: str) -> tuple[str, str]:
    with pytest.raises(HubError) as refused, backing_services():
        await store.read(cypher)
    return refused.value.extensions["code"], refused.value.message


async def test_past_the_limit_is_limit_exceeded_warm_and_unavailable_after_an_outage(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(errors, "_neo4j_away_at", [-math.inf])  # no outage seen yet
    limited = Store(store.driver, store.database, time_limit=0.5)
    assert await _code_of(limited, SLOW) == (
        "LIMIT_EXCEEDED",
        "the query ran past its time limit; narrow it",
    )

    nobody = connect(Neo4jConfig(uri=f"bolt://127.0.0.1:{free_port()}"))  # a Neo4j away
    try:
        code, _ = await _code_of(Store(nobody, store.database), "RETURN 1")
        assert code == "UNAVAILABLE"
    finally:
        await nobody.close()

    code, message = await _code_of(limited, SLOW)
    assert code == "UNAVAILABLE" and "warming up" in message

    monkeypatch.setattr(errors, "_neo4j_away_at", [-errors.WARMING_SECONDS - 1.0])  # long ago
    assert (await _code_of(limited, SLOW))[0] == "LIMIT_EXCEEDED"
