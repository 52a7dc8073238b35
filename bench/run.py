"""`make bench`: lookup throughput and latency over HTTP, against the driver-alone floor.

Runs its own Neo4j, Redis and API under ``.data/bench`` (kept between runs, so the seeded graph
is reused), seeds it up to ``--subjects``, then in one run:

1. the floor: the same ``subject`` Cypher through the async neo4j driver alone, 16 concurrent
   callers, fixed time;
2. the API: ``subject(creditCode)`` over HTTP with 16 keep-alive connections (wrk), fixed time.

Both results and their ratio are written to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Another benchmark may point the stack at another store (bench.investigate: the 1M graph).
DATA = ROOT / ".data" / os.environ.get("HUB_BENCH_STORE", "bench")
PAGECACHE = os.environ.get("HUB_BENCH_PAGECACHE", "4g")
PORTS = {"neo4j": 17787, "redis": 16479, "api": 18100}

os.environ.update(
    HUB_DATA_DIR=str(DATA),
    HUB_NEO4J_URI=f"bolt://127.0.0.1:{PORTS['neo4j']}",
    HUB_REDIS_URL=f"redis://127.0.0.1:{PORTS['redis']}/0",
    HUB_PORT=str(PORTS["api"]),
    HUB_ENV="benchmark",  # GraphiQL off like production; local dev tokens still accepted
)

from bench.common import RESULTS, cpu_seconds, say, write_block  # noqa: E402
from graph.db import Neo4jConfig, Store, connect  # noqa: E402
from graph.subjects import subject_by_code  # noqa: E402
from hub.cli import services, tokens  # noqa: E402
from hub.settings import get_settings  # noqa: E402
from policies.access import read_scope  # noqa: E402
from policies.principal import Clearance, Principal  # noqa: E402

BANK = Principal(
    "BANK-BENCH:partner",
    "credit-hub-dev",
    "BANK-BENCH",
    "PARTNER",
    "150000",
    frozenset({"partner"}),
    Clearance.SHARED,
)
SCOPE = read_scope(BANK).params()  # the floor reads exactly what the bank may see
PARTS = frozenset({"legalRepresentative", "rating", "records", "sanctions"})  # what QUERY selects
QUERY = (
    "query($code: String!) { subject(creditCode: $code) { creditCode name status "
    "division { code name } legalRepresentative { name idMasked } rating { grade score } "
    "records { id item tier decidedOn } sanctions { listing measures } } }"
)


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    failed: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    hits: int = 0  # answers the API served kept (X-Cache: hit)
    cpu_ms: float = 0.0  # the API processes' CPU per request (user + system), 0 for the driver

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@contextmanager
def stack() -> Iterator[None]:
    logs = DATA / "logs"
    procs = []
    try:
        say(f"starting Neo4j and Redis under {DATA.relative_to(ROOT)}")
        procs.append(
            services.start_neo4j(
                services.Neo4jSpec(
                    DATA / "neo4j", port=PORTS["neo4j"], pagecache=PAGECACHE, heap="3g"
                ),
                ROOT / ".data" / "cache",
                logs / "neo4j.log",
            )
        )
        procs.append(
            services.start_redis(
                services.RedisSpec(DATA / "redis", port=PORTS["redis"]), logs / "redis.log"
            )
        )
        subprocess.run([sys.executable, "-m", "hub", "migrate"], check=True, cwd=ROOT)
        yield
    finally:
        for proc in reversed(procs):
            services.stop_process(proc.pid)


def bench_limits(*, cache: bool) -> Path:
    """limits.yaml for a benchmark's API, written under the bench's data: the per-client rates
    lifted for partners, investigators and the public (they would throttle one load generator),
    and with ``cache`` False no answers kept (``cache.fields`` emptied)."""
    text = (
        (ROOT / "policies" / "limits.yaml").read_text()
        .replace("    partner: 100000", "    partner: 1000000000")
        .replace("    investigator: 500000", "    investigator: 1000000000")
        .replace("    public: 20000", "    public: 1000000000")
    )  # fmt: skip
    kept = "  fields: [subject, subjectsByCode]"
    if not cache:
        assert kept in text, "limits.yaml's cache.fields changed: update bench/run.py"
        text = text.replace(kept, "  fields: []")
    lifted = DATA / "limits.yaml"
    lifted.write_text(text)
    return lifted


@contextmanager
def serving(
    command: list[str], env: dict[str, str] | None = None, *, cache: bool = True
) -> Iterator[tuple[str, int]]:
    """An API process for a benchmark, ready when this yields: (its URL, its pid). The shipped
    per-client rates would throttle one load generator to a few requests a second: they are
    lifted for partners, investigators and the public, every other limit as shipped. ``cache``
    False keeps no answers (limits.yaml ``cache.fields`` emptied), for the runs without the
    response cache."""
    lifted = bench_limits(cache=cache)
    proc = services.spawn(
        command, DATA / "logs" / "api.log", env={"HUB_LIMITS_FILE": str(lifted), **(env or {})}
    )
    base = f"http://127.0.0.1:{PORTS['api']}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"API did not become ready; see {DATA / 'logs' / 'api.log'}")
            time.sleep(0.5)
        yield base, proc.pid
    finally:
        services.stop_process(proc.pid)


def api_command(workers: int, unguarded: bool = False) -> list[str]:
    """The API as `hub serve` starts it, or the same app with the access filter and audit off
    (bench/unguarded.py)."""
    if not unguarded:
        return [sys.executable, "-m", "hub", "serve", "--workers", str(workers)]
    return [
        sys.executable, "-m", "uvicorn", "bench.unguarded:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(PORTS["api"]), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


@contextmanager
def api(workers: int, unguarded: bool = False, *, cache: bool = True) -> Iterator[str]:
    with serving(api_command(workers, unguarded), cache=cache) as (base, _):
        yield base


async def subject_count() -> int:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    try:
        records, _, _ = await driver.execute_query("MATCH (s:Subject) RETURN count(s) AS n")
        return int(records[0]["n"])
    finally:
        await driver.close()


def seeded(subjects: int) -> int:
    """Seed the running stack's graph up to ``subjects`` (seed 2026); the count it then holds."""
    have = asyncio.run(subject_count())
    if have < subjects:
        say(f"seeding {subjects:,} subjects (graph has {have:,}); this takes a while")
        subprocess.run(
            [sys.executable, "-m", "hub", "seed", "--subjects", str(subjects), "--seed", "2026"],
            check=True,
            cwd=ROOT,
            env={**os.environ, "HUB_PROGRESS_LOG": "1"},
        )
    return asyncio.run(subject_count())


async def sample_codes(count: int, seed: int) -> list[str]:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (s:Subject) WHERE s.disclosure IN ['PUBLIC', 'SHARED'] "
            "RETURN s.creditCode AS code"
        )
    finally:
        await driver.close()
    codes = [r["code"] for r in records]
    return random.Random(seed).sample(codes, min(count, len(codes)))


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


async def driver_floor(codes: list[str], seconds: float, concurrency: int) -> Result:
    """The same lookups with nothing but the driver between the caller and Neo4j."""
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri, pool_size=concurrency))
    store = Store(driver, time_limit=5.0)
    latencies: list[float] = []
    failed = 0
    stop = time.monotonic() + seconds

    async def caller(offset: int) -> None:
        nonlocal failed
        i = offset
        while time.monotonic() < stop:
            code = codes[i % len(codes)]
            i += concurrency
            started = time.perf_counter()
            try:
                await subject_by_code(store, code, SCOPE, PARTS)
            except Exception:
                failed += 1
            latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(caller(n) for n in range(concurrency)))
    elapsed = time.monotonic() - began
    await driver.close()
    p50, p95, p99 = percentiles(latencies)
    return Result(
        "neo4j driver alone", len(latencies), elapsed, failed, p50 * 1e3, p95 * 1e3, p99 * 1e3
    )


def dev_token(role: str, agency: str, clearance: str, purpose: str) -> str:
    """An hour's dev token for the benchmark's client, signed with the bench stack's key."""
    return tokens.dev_token(get_settings(), role, agency, "150000", clearance, purpose, 3600)


def codes_file(codes: list[str]) -> Path:
    """The codes wrk's bench/lookup.lua draws from, one a line, in the bench's data dir."""
    path = DATA / "codes.txt"
    path.write_text("\n".join(codes) + "\n")
    return path


def neo4j_pid() -> int:
    """The bench stack's Neo4j (its launcher names this store), for its CPU seconds."""
    home = str(DATA / "neo4j")
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"Launcher" in args and home.encode() in args:
            return int(cmdline.parent.name)
    raise SystemExit(f"no Neo4j process for {home}")


def wrk(
    base: str,
    codes_path: Path,
    seconds: int,
    connections: int,
    *,
    timeout: str = "5s",
    **env: str,
) -> dict[str, Any]:
    """One wrk run of bench/lookup.lua against ``base`` (``env``: its BENCH_* settings), and
    what the script reports: requests, duration, failures, kept answers, percentiles."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does it)")
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", timeout,
         "-s", str(ROOT / "bench" / "lookup.lua"), base, "--", str(codes_path)],
        capture_output=True, text=True, check=True, env={**os.environ, **env},
    )  # fmt: skip
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
    data: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    return data


def http_load(base: str, codes_path: Path, seconds: int, connections: int) -> Result:
    token = dev_token("partner", "BANK-BENCH", "SHARED", "loan-review")
    data = wrk(
        base, codes_path, seconds, connections,
        BENCH_TOKEN=token, BENCH_QUERY=QUERY.replace('"', '\\"'),
    )  # fmt: skip
    return Result(
        "API over HTTP (GraphQL)",
        data["requests"],
        data["duration_us"] / 1e6,
        data["failed"] + data["socket_errors"],
        data["p50_us"] / 1e3,
        data["p95_us"] / 1e3,
        data["p99_us"] / 1e3,
        data["hits"],
    )


def record(results: list[Result], args: argparse.Namespace, subjects: int) -> str:
    floor, cold, kept, bare = results
    rows = "\n".join(
        f"| {r.name} | {r.rate:,.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | "
        f"{r.requests:,} | {r.hits / max(r.requests, 1):.0%} | {r.cpu_ms:.3f} | {r.failed} |"
        for r in results
    )
    verdict = "meets" if kept.rate >= 600 and kept.p99_ms < 20 else "misses"
    command = " ".join(["make bench", *sys.argv[1:]]) if sys.argv[1:] else "make bench"
    block = f"""## Lookup by credit code (issues 2 and 17)

`{command}` on
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {subjects:,} subjects in the graph, {args.seconds} s per
run, {args.connections} concurrent keep-alive clients, {args.codes:,} codes asked in turn, API
with {args.workers} uvicorn workers, everything (Neo4j, Redis, API, load generator) on one
{os.cpu_count()}-core machine.

| path | lookups/s | p50 ms | p95 ms | p99 ms | requests | kept | API CPU ms | failed |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

With answers kept (docs/performance.md) the API serves **{kept.rate / cold.rate:.2f}×** the
lookups it serves computing every one, in the same run ("kept": the share served from the
cache; "API CPU ms": the API processes' CPU per lookup, which does not move with the ±20% the
shared machine adds to wall times). HTTP/driver throughput ratio, computing every answer:
**{cold.rate / floor.rate:.2f}**.
With the access filter, field masking and the audit on, the API computing every answer serves
**{cold.rate / bare.rate * 100:.0f}%** of the lookups it serves with them off (issue 3 allows a
30% cost; runs vary by about ±10%). Target (≥ 600 lookups/s, p99 < 20 ms): **{verdict}**.
"""
    return block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--codes", type=int, default=20_000, help="distinct codes asked in turn")
    args = parser.parse_args()
    with stack():
        subjects = seeded(args.subjects)
        codes = asyncio.run(sample_codes(args.codes, 1))
        codes_path = codes_file(codes)
        say("warm-up: 20 s of lookups through the driver (page cache and JIT are cold)")
        asyncio.run(driver_floor(codes, 20, args.connections))
        say(f"floor: driver alone, {args.connections} callers, {args.seconds} s")
        floor = asyncio.run(driver_floor(codes, args.seconds, args.connections))
        say(f"  {floor.rate:,.0f}/s p99 {floor.p99_ms:.1f} ms")
        runs = []
        for name, cache, unguarded in (
            ("API, every answer computed", False, False),
            ("API, answers kept", True, False),
            ("API, access filter and audit off", False, True),
        ):
            command = api_command(args.workers, unguarded)
            with serving(command, cache=cache) as (base, pid):
                say(f"{name}: warm-up 10 s, then {args.connections} connections, {args.seconds} s")
                http_load(base, codes_path, 10, args.connections)
                before = cpu_seconds(pid)
                run = http_load(base, codes_path, args.seconds, args.connections)
                run.cpu_ms = (cpu_seconds(pid) - before) * 1e3 / max(run.requests, 1)
                run.name = name
                share = run.hits / max(run.requests, 1)
                say(f"  {run.rate:,.0f}/s p99 {run.p99_ms:.1f} ms, {share:.0%} kept, "
                    f"{run.cpu_ms:.3f} ms API CPU a lookup")  # fmt: skip
                runs.append(run)
    results = [floor, *runs]
    for result in results:
        if result.failed > result.requests / 100:
            raise SystemExit(
                f"{result.name}: {result.failed} of {result.requests} failed; "
                "see .data/bench/logs — results not recorded"
            )
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "lookup.json").write_text(
        json.dumps([asdict(r) | {"rate": r.rate} for r in results], indent=1)
    )
    write_block("lookup", record(results, args, subjects))
    say(f"results written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
