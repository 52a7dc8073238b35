"""`make soak`: ten minutes of mixed load on the whole hub while, in the middle, a worker and
an API process are killed with SIGKILL and Redis and Neo4j are restarted; then whether the hub
kept its promises.

Its own stack under ``.data/soak`` on free ports, started afresh each run and seeded with
``--subjects`` (bench/soak_stack.py): Neo4j, Redis, two API processes, one worker, beat, and
five partners, each a webhook server of its own (bench/soak_partner.py), three of them also
polling ``sanctionFeed``. The load (bench/soak_load.py) looks subjects up, searches, submits
records and approves them (serious ones by two reviewers), uploads archive files, lists and
unlists subjects on the abnormal list and polls the feed, at about 15 requests a second, after
``--warmup`` seconds of the same load that are not counted (a cold page cache and query plans:
the Neo4j restart, which is counted, shows what they cost). The faults come at fixed shares of
``--seconds``; each one's window runs from the fault until the restarted part is back plus
``--grace`` seconds. After the load, ``--drain`` seconds at most
for the deliveries and imports to finish, then the checks (bench/soak_checks.py); their
results go to bench/RESULTS.md, and the exit status is 1 when a promise failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt
import redis

from bench import soak_checks, soak_stack  # soak_stack: the settings point at its stack
from bench.common import say
from bench.soak_load import Hub, Ledger, Load, Pools, Tokens
from bench.soak_stack import DATA, LOGS, ROOT, Stack, free_port, hub
from connectors.celery_app import HEARTBEAT_KEY
from connectors.signing import new_credentials
from graph.db import Neo4jConfig, Store, connect
from graph.exchange.partners import Keys, register
from hub.http.auth.dev_tokens import default_level
from hub.keys import dev_jwt_secret
from hub.settings import get_settings
from policies.credit.measures import default_measures
from policies.targets import TargetRule

SANCTIONS = ["sanction.listed", "sanction.ended"]
# code -> (kind, events, polls the feed too)
PARTNERS = {
    "SOAK-BANK": ("BANK", SANCTIONS, True),
    "SOAK-LAND": ("LAND_MINING", SANCTIONS, False),
    "SOAK-DEPT": ("DEPARTMENT", SANCTIONS, False),
    "SOAK-PLATFORM": ("REGIONAL_CREDIT_PLATFORM", ["record.published", *SANCTIONS], True),
    "SOAK-PROC": ("PROCUREMENT", SANCTIONS, True),  # no abnormal listing is for it
}
REGION = "NMG150000"  # the region's units: every subject is in their jurisdiction
FAULTS = ((0.30, "worker"), (0.45, "api"), (0.60, "redis"), (0.75, "neo4j"))
PAUSE = 5.0  # seconds a killed or stopped part stays down before it is started again


@dataclass
class Window:
    """A fault: when it began, when the part was back, and the end of its window (``back`` plus
    the grace), in seconds since the load began."""

    name: str
    start: float
    back: float = 0.0
    end: float = 0.0


async def _with_store(work: Callable[[Store], object]) -> object:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    try:
        return await work(Store(driver))  # type: ignore[misc]
    finally:
        await driver.close()


async def register_partners() -> dict[str, tuple[str, int]]:
    """The partners registered with loopback endpoints: code -> (verifying secret, port). They
    hear of what changes from now on (no active set: the soak counts its own events)."""
    made: dict[str, tuple[str, int]] = {}

    async def work(store: Store) -> None:
        for code, (kind, events, _) in PARTNERS.items():
            keys, port = new_credentials("HMAC_SHA256"), free_port()
            fields = {"code": code, "name": f"soak {kind}", "kind": kind, "events": events,
                      "endpoint": f"http://127.0.0.1:{port}/"}  # fmt: skip
            targets = TargetRule(public_only=False, https_only=True)
            await register(
                store, default_measures(), fields, Keys(keys.scheme, keys.signing, keys.verifying),
                targets=targets, send_active_set=False,
            )  # fmt: skip
            made[code] = (keys.verifying, port)

    await _with_store(work)  # type: ignore[arg-type]
    return made


def start_partners(stack: Stack, made: dict[str, tuple[str, int]]) -> None:
    for code, (secret, port) in made.items():
        stack.procs[f"partner {code}"] = soak_stack.services.spawn(
            [sys.executable, "-m", "uvicorn", "bench.soak_partner:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            LOGS / f"partner-{code}.log",
            env={"SOAK_PARTNER_SECRET": secret, "SOAK_PARTNER_LOG": str(receipts_file(code))},
        )  # fmt: skip
    for _, port in made.values():
        soak_stack.services.wait_port("127.0.0.1", port, 60, None)


def receipts_file(code: str) -> str:
    return str(DATA / f"receipts-{code}.jsonl")


POOLS = """
MATCH (s:Subject) WHERE s.disclosure IN ['PUBLIC', 'SHARED']
RETURN s.creditCode AS code, s.nameNormalised AS name, s.division AS division, s.kind AS kind,
  EXISTS { MATCH (:Sanction {status: 'ACTIVE'})-[:SANCTIONED]->(s) } AS listed
ORDER BY code
"""


async def read_pools(seed: int) -> Pools:
    async def work(store: Store) -> list[dict[str, object]]:
        records, _, _ = await store.driver.execute_query(POOLS)
        return [dict(r) for r in records]

    rows: list[dict[str, str]] = await _with_store(work)  # type: ignore[assignment]
    rng = random.Random(seed)
    companies = [r["code"] for r in rows if r["kind"] == "COMPANY" and not r["listed"]]
    rng.shuffle(companies)
    names = rng.sample([r["name"] for r in rows], min(300, len(rows)))
    return Pools(
        lookups=rng.sample([r["code"] for r in rows], min(2000, len(rows))),
        words=[n[-4:-2] for n in names if len(n) >= 6],  # the trade name
        divisions=sorted({r["division"] for r in rows}),
        submit_to=companies[:300],
        abnormal=companies[300:900],
        holder=companies[900],
    )


def person_token(role: str, agency: str, person: str, ttl: int) -> str:
    """A dev token for one named person (two reviewers of one unit differ by it), or for a
    partner (``agency`` its code)."""
    settings = get_settings()
    now = int(time.time())
    division = "150000" if role == "partner" else agency.removeprefix("NMG")
    claims = {
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": person, "iat": now,
        "nbf": now, "exp": now + ttl, "agency": agency, "level": default_level(role, division),
        "division": division, "roles": [role],
        "clearance": "SHARED" if role == "partner" else "RESTRICTED",
    }  # fmt: skip
    return jwt.encode(claims, dev_jwt_secret(settings.keys_dir), algorithm="HS256")


def make_tokens(ttl: int) -> Tokens:
    return Tokens(
        partner=person_token("partner", "SOAK-BANK", "soak-bank", ttl),
        investigator=person_token("investigator", REGION, "soak-investigator", ttl),
        submitter=person_token("submitter", REGION, "soak-clerk", ttl),
        reviewers=(
            person_token("reviewer", REGION, "soak-reviewer-li", ttl),
            person_token("reviewer", REGION, "soak-reviewer-wang", ttl),
        ),
        feeds={
            code: person_token("partner", code, code, ttl)
            for code, (*_, polls) in PARTNERS.items()
            if polls
        },
    )


def worker_answers(since: float, seconds: float = 60) -> None:
    """Wait for the worker to run beat's heartbeat (every 15 s) after ``since`` (Unix time)."""
    client = redis.Redis.from_url(get_settings().redis_url, socket_timeout=2)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                if float(client.get(HEARTBEAT_KEY) or 0) > since:
                    return
            except redis.RedisError:
                pass
            time.sleep(0.5)
    finally:
        client.close()
    say(f"the restarted worker ran no heartbeat within {seconds:.0f} s")


def apis_ready(stack: Stack) -> None:
    for base in stack.apis:
        soak_stack.ready(base, LOGS / "api-1.log", seconds=180)


def inject(stack: Stack, fault: str) -> None:
    """Break one part and bring it back, as a crash and its supervisor or an operator would."""
    if fault == "worker":
        killed = time.time()
        stack.kill("worker")
        time.sleep(PAUSE)
        stack.start("worker")
        worker_answers(killed)
    elif fault == "api":
        stack.kill("api-2")
        time.sleep(PAUSE)
        stack.start("api-2")
    else:
        stack.stop(fault)
        time.sleep(PAUSE)
        stack.start(fault)
        apis_ready(stack)


LABELS = {
    "worker": "worker killed (SIGKILL to its group), restarted",
    "api": "API process api-2 killed (SIGKILL), restarted",
    "redis": "Redis stopped and restarted",
    "neo4j": "Neo4j stopped and restarted",
}


async def faults(stack: Stack, ledger: Ledger, seconds: float, grace: float) -> list[Window]:
    windows = []
    for share, fault in FAULTS:
        await asyncio.sleep(max(0.0, share * seconds - ledger.now()))
        window = Window(LABELS[fault], ledger.now())
        say(f"fault at {window.start:.0f} s: {window.name}")
        await asyncio.to_thread(inject, stack, fault)
        window.back = ledger.now()
        window.end = window.back + grace
        say(f"  back at {window.back:.0f} s (window ends at {window.end:.0f} s)")
        windows.append(window)
    return windows


async def soak(
    stack: Stack, args: argparse.Namespace, tokens: Tokens, pools: Pools
) -> tuple[Load, list[Window]]:
    ledger = Ledger(began=time.monotonic() + args.warmup)
    client = Hub(stack.apis, ledger)
    load = Load(client, tokens, pools, ledger.began + args.seconds, seed=2026)
    say(f"warm-up: {args.warmup} s of the same load, not counted")

    async def progress() -> None:
        await asyncio.sleep(args.warmup)
        while ledger.now() < args.seconds:
            await asyncio.sleep(30)
            say(f"  {ledger.now():.0f} s: {sum(ledger.served.values()):,} served, "
                f"{len(ledger.failures)} errors, {len(ledger.refused)} refused")  # fmt: skip

    try:
        _, windows, _ = await asyncio.gather(
            load.run(), faults(stack, ledger, args.seconds, args.grace), progress()
        )
        say("load over; draining")
        await soak_checks.drain(load, PARTNERS, args.drain)
    finally:
        await client.close()
    return load, windows


def setup(stack: Stack, subjects: int) -> None:
    soak_stack.fresh()
    say(f"starting Neo4j and Redis under {DATA.relative_to(ROOT)} (ports {soak_stack.PORTS})")
    stack.start("neo4j")
    stack.start("redis")
    say("migrating the schema")
    hub("migrate")
    say(f"seeding {subjects:,} subjects")
    started = time.monotonic()
    subprocess.run(
        [*soak_stack.HUB, "seed", "--subjects", str(subjects), "--seed", "2026"],
        check=True, cwd=ROOT, env={**soak_stack.os.environ, "HUB_PROGRESS_LOG": "1"},
    )  # fmt: skip
    say(f"  seeded in {time.monotonic() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=600, help="how long the load runs")
    parser.add_argument("--subjects", type=int, default=5_000, help="subjects seeded")
    parser.add_argument("--warmup", type=int, default=30, help="seconds of load not counted")
    parser.add_argument("--grace", type=float, default=15.0, help="a window's end after recovery")
    parser.add_argument("--drain", type=float, default=300.0, help="most seconds to drain")
    args = parser.parse_args()
    stack = Stack()
    began = time.time()
    try:
        setup(stack, args.subjects)
        say("registering five partners and starting their servers")
        start_partners(stack, asyncio.run(register_partners()))
        say("starting two API processes, a worker and beat")
        for name in ("api-1", "api-2", "worker", "beat"):
            stack.start(name)
        pools = asyncio.run(read_pools(2026))
        tokens = make_tokens(args.seconds + 3600)
        say(f"load for {args.seconds} s; faults at " + ", ".join(
            f"{share * args.seconds:.0f} s ({fault})" for share, fault in FAULTS))  # fmt: skip
        load, windows = asyncio.run(soak(stack, args, tokens, pools))
        results = soak_checks.check(load, windows, PARTNERS, receipts_file)
    finally:
        say("stopping the soak's stack")
        stack.down()
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "soak.json").write_text(json.dumps(results.summary(), indent=1))
    soak_checks.record(results, args, windows, time.time() - began)
    say("results written to bench/RESULTS.md")
    if not results.kept:
        raise SystemExit("a promise failed: see bench/RESULTS.md (soak)")


if __name__ == "__main__":
    main()
