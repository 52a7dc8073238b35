"""`make bench-investigate`: latency of the investigators' fields against their bare queries.

Uses the lookup benchmark's stack under ``.data/bench`` (run `make bench` first; `--subjects`
is what that graph holds). For each of ``network`` (depth 3, limit 500), ``paths`` (6 hops),
``controllers`` and ``exposure`` (depth 3), ``--samples`` sequential calls on sampled subjects:
once through the graph functions alone (the driver, no HTTP, no GraphQL) and once over HTTP
through the API; p50 and p95 of both go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx

from bench.run import api, dev_token, stack, subject_count
from graph.db import Neo4jConfig, connect
from graph.investigate import exposure, network, shortest_paths, upstream
from hub.investigate_api import FANOUT, RelationKind
from hub.settings import get_settings
from policies.access import read_scope
from policies.exposure import default_rules
from policies.principal import Clearance, Principal

from .common import say, write_block

INVESTIGATOR = Principal(
    subject="bench",
    issuer="bench",
    agency="NMG150000",
    level="REGION",
    division="150000",
    roles=frozenset({"investigator"}),
    clearance=Clearance.RESTRICTED,
)
SCOPE = read_scope(INVESTIGATOR).params()
QUERIES = {
    "network": "query($a: String!) { network(creditCode: $a, depth: 3, limit: 500) "
    "{ nodes { id } edges { source target } } }",
    "paths": "query($a: String!, $b: String!) { paths(from: $a, to: $b, maxHops: 6, first: 3) "
    "{ length } }",
    "controllers": "query($a: String!) { controllers(creditCode: $a) "
    "{ controller beneficialOwners { key share } } }",
    "exposure": "query($a: String!) { exposure(creditCode: $a, depth: 3) { creditCode score } }",
}


async def samples(count: int) -> list[tuple[str, str]]:
    """Pairs of subjects: the first holds shares or has a holder, the second anything."""
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (s:Subject) WHERE EXISTS { (s)<-[:SHAREHOLDER_OF]-() } "
            "RETURN s.creditCode AS c LIMIT 20000"
        )
    finally:
        await driver.close()
    codes = [r["c"] for r in records]
    rng = random.Random(5)
    return [(rng.choice(codes), rng.choice(codes)) for _ in range(count)]


def pct(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


async def bare(pairs: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    rules, today = default_rules(), date.today()
    calls: dict[str, Callable[[str, str], Awaitable[Any]]] = {
        "network": lambda a, b: network(
            driver,
            "neo4j",
            a,
            depth=3,
            types=[k.value for k in RelationKind],
            as_of=today,
            limit=500,
            fanout=FANOUT,
            rules=rules,
            scope=SCOPE,
            time_limit=30,
        ),
        "paths": lambda a, b: shortest_paths(
            driver,
            "neo4j",
            a,
            b,
            hops=6,
            k=3,
            rules=rules,
            scope=SCOPE,
            time_limit=30,
            as_of=today,
        ),
        "controllers": lambda a, b: upstream(driver, "neo4j", a, SCOPE, 30, today),
        "exposure": lambda a, b: exposure(driver, "neo4j", a, 3, rules, SCOPE, 30, today),
    }
    out = {}
    try:
        for name, call in calls.items():
            times = []
            for a, b in pairs:
                started = time.perf_counter()
                await call(a, b)
                times.append((time.perf_counter() - started) * 1000)
            out[name] = pct(times)
            say(f"  bare {name}: p50 {out[name][0]:.1f} ms, p95 {out[name][1]:.1f} ms")
    finally:
        await driver.close()
    return out


def over_http(base: str, pairs: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    token = dev_token("investigator", "NMG150000", "RESTRICTED", "investigation:BENCH")
    out = {}
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for name, query in QUERIES.items():
            times = []
            for a, b in pairs:
                started = time.perf_counter()
                body = client.post(
                    f"{base}/graphql", json={"query": query, "variables": {"a": a, "b": b}}
                ).json()
                times.append((time.perf_counter() - started) * 1000)
                if body.get("errors"):
                    raise SystemExit(f"{name} failed: {body['errors']}")
            out[name] = pct(times)
            say(f"  API {name}: p50 {out[name][0]:.1f} ms, p95 {out[name][1]:.1f} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with stack():
        subjects = asyncio.run(subject_count())
        pairs = asyncio.run(samples(args.samples))
        say(f"{subjects:,} subjects; warm-up, then {args.samples} calls per field")
        asyncio.run(bare(pairs[: args.samples // 4]))
        floor = asyncio.run(bare(pairs))
        with api(2) as base:
            over_http(base, pairs[: args.samples // 4])
            served = over_http(base, pairs)
    targets = {"network": 150.0, "paths": 300.0}
    lines = [
        "| field | bare p50 | bare p95 | API p50 | API p95 | target p95 |",
        "|---|---|---|---|---|---|",
    ]
    for name in QUERIES:
        target = targets.get(name)
        verdict = (
            f"< {target:.0f} ms: {'met' if served[name][1] < target else 'missed'}"
            if target
            else "—"
        )
        lines.append(
            f"| `{name}` | {floor[name][0]:.1f} ms | {floor[name][1]:.1f} ms | "
            f"{served[name][0]:.1f} ms | {served[name][1]:.1f} ms | {verdict} |"
        )
    table = "\n".join(lines)
    write_block(
        "investigate",
        f"""## Investigators' fields (issue 5)

Command: `make bench-investigate` ({time.strftime("%Y-%m-%d")}; graph of {subjects:,} subjects
from `make bench`, not yet 1,000,000; {args.samples} sequential calls per field on subjects that
have shareholders; 2 cores shared by Neo4j, the API and the client). "Bare" is the same graph
function through the driver alone; "API" is the GraphQL field over HTTP with the access filter
and the audit on.

{table}

Caveat: the `paths` pairs are random and the share connected within 6 hops is not counted yet.
""",
    )
    say("written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
