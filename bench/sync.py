"""`make bench-sync`: from a reviewer's decision to the partners' receipt, and how many events
per second the workers push.

Runs its own stack under ``.data/bench-sync`` (seeded once with ``--subjects``), five partners
(one per kind a serious listing goes to) played by one loopback HTTP server that verifies every
signature with the ``standardwebhooks`` package, the API, beat and Celery workers.

1. Latency: ``--decisions`` cases are proposed, notified and waived beforehand; each is then
   decided over HTTP (``advanceListing`` DECIDE) one after another, and the time from sending
   the decision to each partner's receipt of ``sanction.listed`` is recorded (p50, p99).
2. Throughput: with the workers stopped, ``--events`` listings are published (a backlog of
   events x 5 deliveries); then one worker process, and in a second round two, are started and
   the time from the first receipt to the last gives the sustained events/s.
3. Baseline, same run: signed requests posted straight to one partner by one process with the
   workers' HTTP client, 8 in flight: what the partner side and the client alone allow.
"""

from __future__ import annotations

import os

os.environ.setdefault("HUB_BENCH_STORE", "bench-sync")

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import httpx

from bench.common import say, write_block
from bench.run import DATA, PORTS, ROOT, api, dev_token, stack, subject_count
from connectors.delivery import IN_FLIGHT
from connectors.signing import headers, new_credentials
from graph.db import Neo4jConfig, Store, connect
from graph.exchange.partners import Keys, register
from graph.records.determination import advance, propose
from graph.records.listings import ListingDecision, publish_listing
from hub.cli import services
from hub.settings import get_settings
from policies.credit.determination import default_rules
from policies.credit.measures import default_measures
from policies.targets import TargetRule
from policies.units import unit_prefix

# Another checkout's benchmark may hold bench/run.py's fixed ports: HUB_BENCH_PORT_OFFSET moves
# this run's stack and partners by that much.
OFFSET = int(os.environ.get("HUB_BENCH_PORT_OFFSET", "0"))
if OFFSET:
    PORTS.update({name: port + OFFSET for name, port in PORTS.items()})
    os.environ.update(
        HUB_NEO4J_URI=f"bolt://127.0.0.1:{PORTS['neo4j']}",
        HUB_REDIS_URL=f"redis://127.0.0.1:{PORTS['redis']}/0",
        HUB_PORT=str(PORTS["api"]),
    )
WARM_UP = 10  # first decisions, not counted: workers open their connections
KINDS = ("PROCUREMENT", "BIDDING", "BANK", "LAND_MINING", "DEPARTMENT")
UNIT = "NMG150000"  # the region unit: every subject is in its jurisdiction
DECIDE = """mutation($id: String!) { advanceListing(id: $id, step: DECIDE, reason: "认定严重失信",
  document: "内自然资决〔2026〕1号") { status } }"""


class Partners:
    """Five partners, one per kind, served by bench/partner_app.py in its own process."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        stamp = int(time.time())
        self.codes = {kind: f"BENCH-{kind.replace('_', '-')}-{stamp}" for kind in KINDS}
        self.keys = {code: new_credentials("HMAC_SHA256") for code in self.codes.values()}
        secrets = {code: keys.verifying for code, keys in self.keys.items()}
        (DATA / "logs").mkdir(parents=True, exist_ok=True)
        self.proc = services.spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.partner_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            DATA / "logs" / "partners.log",
            env={"BENCH_PARTNER_SECRETS": json.dumps(secrets)},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.base}/receipts", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("the partners' server did not start; see its log") from None
                time.sleep(0.2)

    def url(self, code: str) -> str:
        return f"{self.base}/p/{code}"

    def receipts(self) -> list[tuple[str, float]]:
        rows = httpx.get(f"{self.base}/receipts", timeout=30).json()
        return [(sanction, at) for _, sanction, at in rows]

    def clear(self) -> None:
        httpx.delete(f"{self.base}/receipts", timeout=30)

    def stop(self) -> None:
        services.stop_process(self.proc.pid)


def cpu_of(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and all their descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, seconds)
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(path.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    wanted, total = set(pids), 0.0
    while True:
        more = {pid for pid, (parent, _) in stats.items() if parent in wanted} - wanted
        if not more:
            break
        wanted |= more
    for pid in wanted:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def pids_running(fragment: str) -> list[int]:
    """Processes whose command line contains ``fragment`` (Neo4j and Redis of this store)."""
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if fragment.encode() in path.read_bytes():
                found.append(int(path.parent.name))
        except OSError:
            continue
    return found


@contextmanager
def workers(count: int) -> Iterator[list[int]]:
    logs = DATA / "logs"
    procs = [
        services.spawn(
            [sys.executable, "-m", "hub", "worker", "--concurrency", "1"],
            logs / f"worker-{n}.log",
        )
        for n in range(count)
    ]
    try:
        yield [proc.pid for proc in procs]
    finally:
        for proc in procs:
            services.stop_process(proc.pid, timeout=30)


async def grounds(count: int) -> list[tuple[str, str]]:
    """(subject, record) pairs: a published general or serious dishonest record each (with
    malice found, either makes a subject seriously dishonest)."""
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord {status: 'PUBLISHED', "
            "category: 'DISHONEST'}) WHERE r.tier IN ['GENERAL', 'SERIOUS'] "
            "WITH s, min(r.id) AS record ORDER BY s.creditCode LIMIT $n "
            "RETURN s.creditCode AS s, record",
            n=count,
        )
    finally:
        await driver.close()
    return [(r["s"], r["record"]) for r in records]


async def setup_partners(partners: Partners) -> None:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    store = Store(driver)
    catalogue = default_measures()
    try:
        await driver.execute_query("MATCH (p:Partner) SET p.status = 'DISABLED'")
        for kind, code in partners.codes.items():
            keys = partners.keys[code]
            await register(
                store,
                catalogue,
                {
                    "code": code,
                    "name": f"bench {kind}",
                    "kind": kind,
                    "endpoint": partners.url(code),
                    "events": ["sanction.listed", "sanction.ended"],
                },
                Keys(keys.scheme, keys.signing, keys.verifying),
                targets=TargetRule(public_only=False, https_only=True),
                send_active_set=False,  # time the decisions, not the seeded active set
            )
    finally:
        await driver.close()


async def prepared_cases(pairs: list[tuple[str, str]]) -> list[str]:
    """Cases proposed, notified and waived: ready for the timed decision."""
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    store = Store(driver)
    rules, catalogue, cases = default_rules(), default_measures(), []
    try:
        for subject, record in pairs:
            case = await propose(
                store,
                rules,
                subject=subject,
                records=[record],
                fault="MALICE",
                reason="恶意违法，情节严重",
                by="bench-clerk",
                unit=UNIT,
                prefix=unit_prefix(UNIT),
                now=datetime.now(UTC),
            )
            for action, document in (("NOTIFY", "内自然资告〔2026〕1号"), ("WAIVE", None)):
                await advance(
                    store,
                    rules,
                    catalogue,
                    case_id=case,
                    action=action,
                    by="bench-reviewer-1",
                    unit=UNIT,
                    prefix=unit_prefix(UNIT),
                    today=date.today(),
                    reason="基准测试步骤",
                    document=document,
                )
            cases.append(case)
    finally:
        await driver.close()
    return cases


async def backlog(pairs: list[tuple[str, str]], tag: str) -> list[str]:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    store = Store(driver)
    catalogue, today, made = default_measures(), date.today(), []
    try:
        for n, (subject, record) in enumerate(pairs):
            sanction = f"S-BENCH-{tag}-{n:06d}"
            await publish_listing(
                store,
                catalogue,
                ListingDecision(
                    sanction,
                    subject,
                    "SERIOUS_DISHONESTY",
                    UNIT,
                    (record,),
                    today,
                    today + timedelta(days=730),
                    "PUBLIC",
                    "bench-reviewer",
                ),
            )
            made.append(sanction)
            if n % 500 == 499:
                say(f"  {n + 1:,} listings published")
    finally:
        await driver.close()
    return made


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def wait_for(
    partners: Partners, sanctions: set[str], seconds: float, poll: float = 0.02, some: bool = False
) -> list[float]:
    """Receipt times of every (sanction, partner) once all have arrived (``some``: once any
    has)."""
    deadline = time.monotonic() + seconds
    while True:
        got = [(s, t) for s, t in partners.receipts() if s in sanctions]
        if got if some else len(got) >= len(sanctions) * len(KINDS):
            return [t for _, t in got]
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(got)} of {len(sanctions) * len(KINDS)} receipts arrived")
        time.sleep(poll)


async def partner_floor(partners: Partners, count: int) -> tuple[float, float, float]:
    """Signed posts straight to one partner with the workers' client and in-flight limit, from
    one process: (per second, p50 ms, p99 ms)."""
    code = partners.codes["BANK"]
    signing = partners.keys[code].signing
    latencies: list[float] = []
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with aiohttp.ClientSession() as client:

        async def one(n: int) -> None:
            body = json.dumps(
                {
                    "id": f"evt_floor_{n}",
                    "type": "sanction.listed",
                    "data": {"sanctionId": f"FLOOR-{n}"},
                }
            ).encode()
            async with gate:
                sent = headers(signing, f"evt_floor_{n}", int(time.time()), body)
                started = time.perf_counter()
                async with client.post(partners.url(code), data=body, headers=sent) as response:
                    await response.read()
                    response.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        elapsed = time.perf_counter() - began
    return count / elapsed, pct(latencies, 50), pct(latencies, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=60_000)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--events", type=int, default=1_500)
    args = parser.parse_args()
    partners = Partners(18400 + OFFSET)
    try:
        with stack():
            if asyncio.run(subject_count()) < args.subjects:
                say(f"seeding {args.subjects:,} subjects under {DATA.relative_to(ROOT)}")
                subprocess.run(
                    [sys.executable, "-m", "hub", "seed", "--subjects", str(args.subjects)],
                    check=True,
                    cwd=ROOT,
                )
            asyncio.run(setup_partners(partners))
            run = int(time.time())
            needed = WARM_UP + args.decisions + 2 * args.events
            pairs = asyncio.run(grounds(needed))
            if len(pairs) < needed:
                raise SystemExit(f"only {len(pairs):,} subjects with grounds: raise --subjects")
            say(f"preparing {args.decisions} cases (proposed, notified, waived)")
            cases = asyncio.run(prepared_cases(pairs[: args.decisions + WARM_UP]))
            beat = services.spawn([sys.executable, "-m", "hub", "beat"], DATA / "logs" / "beat.log")
            try:
                with api(2) as base, workers(2):
                    time.sleep(5)  # workers up
                    reviewer = httpx.Client(
                        headers={
                            "Authorization": "Bearer "
                            + dev_token("reviewer", UNIT, "RESTRICTED", "bench")
                        },
                        timeout=30,
                    )
                    say(f"deciding {args.decisions} cases over HTTP, one after another")
                    latencies: list[float] = []
                    for n, case in enumerate(cases):
                        partners.clear()
                        sanction = "S-" + case.removeprefix("LC-")
                        started = time.time()
                        body = reviewer.post(
                            f"{base}/graphql", json={"query": DECIDE, "variables": {"id": case}}
                        ).json()
                        if body.get("errors"):
                            raise SystemExit(f"decision failed: {body['errors']}")
                        took = [(t - started) * 1000 for t in wait_for(partners, {sanction}, 30)]
                        if n >= WARM_UP:
                            latencies += took
                    say(f"  p50 {pct(latencies, 50):.0f} ms, p99 {pct(latencies, 99):.0f} ms")
                rounds: dict[int, tuple[float, float, float]] = {}
                cpu: dict[int, dict[str, float]] = {}
                for count, tag in ((1, "one"), (2, "two")):
                    first = WARM_UP + args.decisions + (count - 1) * args.events
                    chunk = pairs[first : first + args.events]
                    say(f"publishing {len(chunk):,} listings with the workers stopped")
                    sanctions = asyncio.run(backlog(chunk, f"{run}-{tag}"))
                    partners.clear()
                    with workers(count) as pids:
                        wait_for(partners, set(sanctions), 120, poll=0.05, some=True)
                        groups = {
                            "workers": pids,
                            "Neo4j": pids_running(str(DATA / "neo4j")),
                            "partners": [partners.proc.pid],
                        }
                        before = {name: cpu_of(group) for name, group in groups.items()}
                        times = wait_for(partners, set(sanctions), 900, poll=0.5)
                        spent = {name: cpu_of(g) - before[name] for name, g in groups.items()}
                    elapsed = max(times) - min(times)
                    cpu[count] = {name: s * 1000 / len(times) for name, s in spent.items()}
                    rounds[count] = (len(sanctions) / elapsed, len(times) / elapsed, elapsed)
                    say(
                        f"  {count} worker(s): {rounds[count][0]:,.0f} events/s "
                        f"({rounds[count][1]:,.0f} deliveries/s); CPU ms a delivery: "
                        + ", ".join(f"{name} {ms:.3f}" for name, ms in cpu[count].items())
                    )
            finally:
                services.stop_process(beat.pid)
            floor = asyncio.run(partner_floor(partners, 10_000))
            say(f"  partner floor: {floor[0]:,.0f} posts/s, p50 {floor[1]:.1f} ms")
    finally:
        partners.stop()
    lat50, lat99 = pct(latencies, 50), pct(latencies, 99)
    one, two = rounds[1], rounds[2]
    rows = [
        ("decision (`advanceListing` DECIDE over HTTP) to receipt, p50", f"{lat50:.0f} ms", "—"),
        (
            f"the same, p99 ({len(latencies):,} receipts of {args.decisions} decisions)",
            f"{lat99:.0f} ms",
            f"< 1,000 ms: {'met' if lat99 < 1000 else 'missed'}",
        ),
        (
            "sustained, 1 worker process",
            f"{one[0]:,.0f} events/s ({one[1]:,.0f} deliveries/s)",
            "—",
        ),
        (
            "sustained, 2 worker processes",
            f"{two[0]:,.0f} events/s ({two[1]:,.0f} deliveries/s)",
            f"≥ 1,000 events/s: {'met' if two[0] >= 1000 else 'missed'}",
        ),
        *(
            (
                f"CPU a delivery, {count} worker process{'es' if count > 1 else ''}",
                ", ".join(f"{name} {ms:.3f} ms" for name, ms in cpu[count].items()),
                "—",
            )
            for count in (1, 2)
        ),
        (
            f"baseline: signed posts straight to one partner ({IN_FLIGHT} at a time, one process)",
            f"{floor[0]:,.0f} posts/s, p50 {floor[1]:.1f} ms, p99 {floor[2]:.1f} ms",
            "—",
        ),
    ]
    table = "\n".join(
        ["| measure | result | target |", "|---|---|---|"]
        + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    )
    command = f"HUB_BENCH_PORT_OFFSET={OFFSET} make bench-sync" if OFFSET else "make bench-sync"
    spent2 = sum(cpu[2].values())
    ceiling = 2000 / spent2  # deliveries a second that two cores' milliseconds pay for
    write_block(
        "sync",
        f"""## Sanctions to partners (issues 6 and 17)

Command: `{command}` ({time.strftime("%Y-%m-%d")}; {args.subjects:,}-subject graph under
`{DATA.relative_to(ROOT)}`; 2 cores shared by Neo4j, Redis, the API, beat, the workers and the
partners' servers; five partners, one per kind a serious listing goes to, each verifying every
signature with the `standardwebhooks` package).

{table}

Sustained rates drain a backlog of {args.events:,} events (x5 deliveries) published while the
workers were stopped, timed from the first receipt to the last. CPU a delivery is the user and
system time (/proc) of the worker processes, Neo4j and the partners' server from the first
receipt to the last, over the deliveries received. With 2 workers that is {spent2:.3f} ms a
delivery in all: 2 cores, if nothing else ran on them, would allow about {ceiling:,.0f} deliveries/s
({ceiling / len(KINDS):,.0f} events/s).
""",
    )
    say("written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
