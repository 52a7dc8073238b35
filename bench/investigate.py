"""`make bench-investigate`: latency of the investigators' fields against their bare queries.

Runs the benchmark stack on the 1,000,000-subject graph of `make bench-seed` (``.data/bench-
seed``; ``HUB_BENCH_STORE=bench`` takes the 100k graph of `make bench` instead). For each of
``network`` (depth 3, limit 500), ``paths`` (6 hops), ``controllers`` and ``exposure`` (depth
3), ``--samples`` sequential calls on sampled subjects, each timed through the graph function
alone (the driver, no HTTP, no GraphQL) and over HTTP through the API in turn; p50 and p95
of both go to ``bench/RESULTS.md``. ``paths`` runs twice: between related subjects (the second
reached from the first by a short walk, so a path usually exists) and between random ones
(mostly unconnected: the search must exhaust both sides), and counts the connected pairs.
"""

from __future__ import annotations

import os

os.environ.setdefault("HUB_BENCH_STORE", "bench-seed")
os.environ.setdefault("HUB_BENCH_PAGECACHE", "6g")

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from bench.common import say, write_block
from bench.run import DATA, ROOT, api, dev_token, stack, subject_count
from graph.db import Neo4jConfig, Store, connect
from graph.investigate.exposure import exposure
from graph.investigate.network import network
from graph.investigate.paths import shortest_paths
from graph.investigate.patterns import LINKS
from graph.investigate.upstream import upstream
from hub.api.investigate.network import FANOUT
from hub.api.investigate.nodes import RelationKind
from hub.settings import get_settings
from policies.access import read_scope
from policies.credit.exposure import default_rules
from policies.principal import Clearance, Principal

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
_PATHS = (
    "query($a: String!, $b: String!) { paths(from: $a, to: $b, maxHops: 6, first: 3) { length } }"
)
QUERIES = {
    "network": "query($a: String!) { network(creditCode: $a, depth: 3, limit: 500) "
    "{ nodes { id } edges { source target } } }",
    "paths, related": _PATHS,
    "paths, random": _PATHS,
    "controllers": "query($a: String!) { controllers(creditCode: $a) "
    "{ controller beneficialOwners { key share } } }",
    "exposure": "query($a: String!) { exposure(creditCode: $a, depth: 3) { creditCode score } }",
}


@dataclass(frozen=True, slots=True)
class Sample:
    code: str  # a subject with shareholders
    related: str  # a subject 2-4 links away from it
    other: str  # a random subject

    def partner(self, field: str) -> str:
        return self.other if field == "paths, random" else self.related


# A subject reached from another by a short walk over the links `paths` follows.
_RELATED = f"""
MATCH (a:Subject {{creditCode: $code}})-[:{LINKS}|PARTICIPATES_IN*2..4]-(b:Subject) WHERE b <> a
RETURN DISTINCT b.creditCode AS c LIMIT 20
"""


async def samples(count: int) -> list[Sample]:
    """Subjects with shareholders spread over the whole graph, each with a related subject and a
    random one."""
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    rng = random.Random(5)
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (s:Subject) WHERE EXISTS { (s)<-[:SHAREHOLDER_OF]-() } RETURN s.creditCode AS c"
        )
        codes = [r["c"] for r in records]
        chosen: list[Sample] = []
        while len(chosen) < count:
            code = rng.choice(codes)
            near, _, _ = await driver.execute_query(_RELATED, code=code)
            if near:
                chosen.append(Sample(code, rng.choice(near)["c"], rng.choice(codes)))
    finally:
        await driver.close()
    return chosen


def pct(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


Timings = dict[str, tuple[float, float]]


async def measure(
    base: str, chosen: list[Sample], connected: dict[str, int]
) -> tuple[Timings, Timings]:
    """Each field on each sample twice, through its graph function alone (the driver) and over
    HTTP, alternating which goes first, so the caches one warms for the other favour neither;
    returns (bare, API) p50/p95. ``connected`` counts pairs with a path."""
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    store = Store(driver, time_limit=30)
    rules, today = default_rules(), date.today()
    find_paths: Callable[[str, str], Awaitable[Any]] = lambda a, b: shortest_paths(  # noqa: E731
        store,
        a,
        b,
        hops=6,
        k=3,
        rules=rules,
        scope=SCOPE,
        as_of=today,
    )
    calls: dict[str, Callable[[str, str], Awaitable[Any]]] = {
        "network": lambda a, b: network(
            store,
            a,
            depth=3,
            types=[k.value for k in RelationKind],
            as_of=today,
            limit=500,
            fanout=FANOUT,
            rules=rules,
            scope=SCOPE,
        ),
        "paths, related": find_paths,
        "paths, random": find_paths,
        "controllers": lambda a, b: upstream(store, a, SCOPE, today),
        "exposure": lambda a, b: exposure(store, a, 3, rules, SCOPE, today),
    }
    token = dev_token("investigator", "NMG150000", "RESTRICTED", "investigation:BENCH")
    client = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)

    async def served(name: str, sample: Sample) -> float:
        variables = {"a": sample.code}
        if name.startswith("paths"):
            variables["b"] = sample.partner(name)
        started = time.perf_counter()
        response = await client.post(
            f"{base}/graphql", json={"query": QUERIES[name], "variables": variables}
        )
        took = (time.perf_counter() - started) * 1000
        if response.json().get("errors"):
            raise SystemExit(f"{name} failed: {response.json()['errors']}")
        return took

    async def alone(name: str, sample: Sample) -> tuple[float, bool]:
        started = time.perf_counter()
        found = await calls[name](sample.code, sample.partner(name))
        return (time.perf_counter() - started) * 1000, bool(found)

    floor: Timings = {}
    api_times: Timings = {}
    try:
        for name in QUERIES:
            bare_ms, http_ms, linked = [], [], 0
            for i, sample in enumerate(chosen):
                if i % 2:
                    http_ms.append(await served(name, sample))
                    took, found = await alone(name, sample)
                else:
                    took, found = await alone(name, sample)
                    http_ms.append(await served(name, sample))
                bare_ms.append(took)
                linked += found
            connected[name] = linked
            floor[name], api_times[name] = pct(bare_ms), pct(http_ms)
            say(
                f"  {name}: bare p50 {floor[name][0]:.1f} / p95 {floor[name][1]:.1f} ms, "
                f"API p50 {api_times[name][0]:.1f} / p95 {api_times[name][1]:.1f} ms"
            )
    finally:
        await client.aclose()
        await driver.close()
    return floor, api_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    if not (DATA / "neo4j").is_dir():
        raise SystemExit(
            f"no graph under {DATA.relative_to(ROOT)}: run `make bench-seed` first "
            "(or HUB_BENCH_STORE=bench after `make bench` for the 100k graph)"
        )
    with stack():
        subjects = asyncio.run(subject_count())
        say("sampling subjects, each with a related and a random one")
        drawn = asyncio.run(samples(args.samples + args.samples // 4))
        warm_up, chosen = drawn[: args.samples // 4], drawn[args.samples // 4 :]
        say(f"{subjects:,} subjects; warm-up on others, then {args.samples} calls per field")
        connected: dict[str, int] = {}
        with api(2) as base:
            asyncio.run(measure(base, warm_up, connected))
            floor, served = asyncio.run(measure(base, chosen, connected))
    targets = {"network": 150.0, "paths, related": 300.0, "paths, random": 300.0}
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
under `{DATA.relative_to(ROOT)}`; {args.samples} sequential calls per field on subjects that
have shareholders, drawn from the whole graph; 2 cores shared by Neo4j, the API and the client;
page cache {os.environ["HUB_BENCH_PAGECACHE"]}). "Bare" is the same graph function through the
driver alone; "API" is the GraphQL field over HTTP with the access filter and the audit on.
Each sample is timed both ways in turn, alternating which goes first, so the caches one call
warms for the other favour neither side.

{table}

`paths, related` pairs a subject with one reached from it by a walk of 2-4 links:
{connected["paths, related"]} of {args.samples} were connected within 6 hops (the rest only
through a hub, or a subject the investigator may not see, which `paths` does not cross).
A quarter as many other subjects warmed the caches first. `paths, random` pairs it
with a random subject: {connected["paths, random"]} of {args.samples} were connected, so the
search usually exhausts both sides before answering that there is no path.
""",
    )
    say("written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
