"""`make bench-portal`: the public side under load, with and without the page cache, in one run.

Runs its own stack under ``.data/bench-portal`` (seeded once with ``--subjects``), then, each
with 16 keep-alive connections (wrk) for ``--seconds``, after a warm-up:

1. the subject page (``GET /subjects/{code}``) over a hot set of ``--hot`` public subjects (the
   pages people actually open), with the Redis page cache on (``HUB_PORTAL_CACHE_SECONDS=60``);
2. the same pages with the cache off (``0``): every request reads Neo4j and renders;
3. the anonymous GraphQL lookup ``subject(creditCode)`` (the public role, no token) over the
   same codes, which the page cache does not serve.

Besides requests/s and latency it counts the API processes' CPU seconds per request (from
/proc), which do not move with the ±20% the shared machine adds to wall times. The public rate
limit is lifted for the load generator (one address would otherwise be throttled at once).
"""

from __future__ import annotations

import os

os.environ.setdefault("HUB_BENCH_STORE", "bench-portal")

import argparse
import asyncio
import random
import subprocess
import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import cpu_seconds, say, write_block
from bench.run import DATA, ROOT, serving, stack, subject_count, wrk
from graph.db import Neo4jConfig, connect
from hub.settings import get_settings

QUERY = (
    "query($code: String!) { subject(creditCode: $code) { name grade "
    "rating { grade consequences { name } } records { title decidedOn } "
    "sanctions { listing measures } } }"
)


@dataclass
class Run:
    name: str
    requests: int
    seconds: float
    failed: int
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def public_api(workers: int, cache_seconds: int) -> AbstractContextManager[tuple[str, int]]:
    command = [sys.executable, "-m", "hub", "serve", "--workers", str(workers)]
    return serving(command, {"HUB_PORTAL_CACHE_SECONDS": str(cache_seconds)})


def load(base: str, pid: int, name: str, mode: str, codes: Path, seconds: int) -> Run:
    before = cpu_seconds(pid)
    data = wrk(
        base, codes, seconds, 16,
        BENCH_MODE=mode, BENCH_TOKEN="", BENCH_QUERY=QUERY.replace('"', '\\"'),
    )  # fmt: skip
    cpu = cpu_seconds(pid) - before
    requests = max(data["requests"], 1)
    return Run(
        name,
        data["requests"],
        data["duration_us"] / 1e6,
        data["failed"] + data["socket_errors"],
        data["p50_us"] / 1e3,
        data["p99_us"] / 1e3,
        cpu / requests * 1e3,
    )


async def public_codes(count: int, seed: int) -> list[str]:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (s:Subject {disclosure: 'PUBLIC'}) RETURN s.creditCode AS code"
        )
    finally:
        await driver.close()
    codes = sorted(r["code"] for r in records)
    return random.Random(seed).sample(codes, min(count, len(codes)))


def measure(args: argparse.Namespace, codes: Path) -> list[Run]:
    runs = []
    for cache in (60, 0):
        with public_api(args.workers, cache) as (base, pid):
            label = "on" if cache else "off"
            say(f"subject page, cache {label}: warm-up 10 s, then {args.seconds} s")
            load(base, pid, "warm-up", "page", codes, 10)
            run = load(base, pid, f"subject page, cache {label}", "page", codes, args.seconds)
            say(f"  {run.rate:,.0f}/s p99 {run.p99_ms:.1f} ms, {run.cpu_ms_per_request:.2f} ms CPU")
            runs.append(run)
            if cache == 0:
                say(f"anonymous GraphQL lookup: warm-up 10 s, then {args.seconds} s")
                load(base, pid, "warm-up", "graphql", codes, 10)
                run = load(base, pid, "public GraphQL lookup", "graphql", codes, args.seconds)
                say(f"  {run.rate:,.0f}/s p99 {run.p99_ms:.1f} ms, "
                    f"{run.cpu_ms_per_request:.2f} ms CPU")  # fmt: skip
                runs.append(run)
    return runs


def record(runs: list[Run], args: argparse.Namespace, subjects: int) -> str:
    rows = "\n".join(
        f"| {r.name} | {r.rate:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
        f"{r.cpu_ms_per_request:.2f} | {r.requests:,} | {r.failed} |"
        for r in runs
    )
    cached, uncached = runs[0], runs[1]
    speed = cached.rate / uncached.rate
    cpu = uncached.cpu_ms_per_request / max(cached.cpu_ms_per_request, 1e-9)
    return f"""## The public side: subject pages and anonymous lookups (issue 14)

`{" ".join(["python -m bench.portal", *sys.argv[1:]])}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC:
{subjects:,} subjects, a hot set of {args.hot} public subjects cycled by 16 keep-alive clients
(wrk) for {args.seconds} s per run after a 10 s warm-up, API with {args.workers} uvicorn
workers, everything on one {os.cpu_count()}-core machine. CPU is the API processes' user +
system time per request (/proc), which wall-time noise does not move.

| what | requests/s | p50 ms | p99 ms | API CPU ms/request | requests | failed |
|---|---:|---:|---:|---:|---:|---:|
{rows}

The page cache (Redis, keyed by the feed version) serves a page **{speed:.1f}x** as fast as
rendering it, at **{cpu:.1f}x** less API CPU per page; a cached page still costs one Neo4j
round trip (the feed version) and one Redis GET. The anonymous GraphQL lookup is not cached:
each answer is read through the read rule.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--hot", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with stack():
        if asyncio.run(subject_count()) < args.subjects:
            say(f"seeding {args.subjects:,} subjects (once; kept under {DATA.relative_to(ROOT)})")
            subprocess.run(
                [sys.executable, "-m", "hub", "seed", "--subjects", str(args.subjects)],
                check=True, cwd=ROOT, env={**os.environ, "HUB_PROGRESS_LOG": "1"},
            )  # fmt: skip
            subprocess.run([sys.executable, "-m", "hub", "rate", "--all"], check=True, cwd=ROOT)
        subjects = asyncio.run(subject_count())
        codes = asyncio.run(public_codes(args.hot, 14))
        if not codes:
            raise SystemExit("no public subject in the graph")
        codes_file = DATA / "public-codes.txt"
        codes_file.write_text("\n".join(codes) + "\n")
        runs = measure(args, codes_file)
    for run in runs:
        if run.failed > run.requests / 100:
            raise SystemExit(f"{run.name}: {run.failed} of {run.requests} failed; not recorded")
    write_block("portal", record(runs, args, subjects))
    say("results written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
