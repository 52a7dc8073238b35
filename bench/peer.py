"""`make bench-peer`: the hub against @neo4j/graphql, the library a team would pick instead, on
the same Neo4j, the same data, the same load, in one run.

Uses the stack and graph of `make bench` (``.data/bench``, seeded up to ``--subjects``;
``HUB_BENCH_STORE=bench-portal`` takes the 20,000-subject graph of `make bench-portal`). The peer
is bench/peer/server.mjs (a plain Node http server, the schema built once, each document parsed
and validated once, no access control, masking or audit); its packages are installed from
bench/peer/package-lock.json when missing. Before timing, the same subjects are asked through
both and must agree (credit code, name, grade). Then, for the lookup and for a depth-2
neighbourhood, wrk (16 keep-alive connections, the same codes, bench/lookup.lua) warms each
server up and drives them in alternating rounds: hub, peer, hub, peer. Wall times on this shared
machine vary by ±20%; CPU milliseconds per request (from /proc) of each server's processes and of
Neo4j do not, so both are recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
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

from bench.common import cpu_seconds, say, write_block
from bench.run import (
    DATA,
    PORTS,
    QUERY,
    ROOT,
    codes_file,
    dev_token,
    neo4j_pid,
    sample_codes,
    seeded,
    serving,
    stack,
    wrk,
)
from hub.cli import services

PEER = ROOT / "bench" / "peer"
PEER_PORT = 18200
# The peer's lookup: the hub's fields (bench/run.py QUERY) as the library maps them; a division
# is a code (the hub adds its name), records are the published ones, newest first, at most 100.
_CURRENT = "where: {edge: {until: {eq: null}}}"  # links in force, as the hub shows them
PEER_LOOKUP = (
    "query($code: String!) { subjects(where: {creditCode: {eq: $code}}, limit: 1) { "
    f"creditCode name status division legalRepresentativesConnection(first: 1, {_CURRENT}, "
    "sort: [{edge: {since: DESC}}]) { edges { node { name idMasked } } } "
    "rating(limit: 1, sort: [{computedAt: DESC}]) { grade score } "
    'records(where: {status: {eq: "PUBLISHED"}}, sort: [{decidedOn: DESC}], limit: 100) '
    "{ id item tier decidedOn } sanctions { listing measures } } }"
)
# Depth 2 over the links between people and subjects in force today; 50 links a node, like the
# hub's fan-out cap.
RELATIONS = ("LEGAL_REPRESENTATIVE_OF", "SHAREHOLDER_OF", "OFFICER_OF")
HUB_NETWORK = (
    "query($code: String!) { network(creditCode: $code, depth: 2, "
    f"relations: [{', '.join(RELATIONS)}]) {{ nodes {{ id kind label }} "
    "edges { kind source target } } }"
)
_PEOPLE = ("legalRepresentatives", "shareholders", "officers")  # Subject <- Person
_FIRMS = ("corporateShareholders", "holdings")  # Subject - Subject
_OF_PERSON = ("represents", "holdings", "offices")  # Person -> Subject


def _links(fields: tuple[str, ...], selection: str) -> str:
    return " ".join(
        f"{f}Connection(first: 50, {_CURRENT}) {{ edges {{ node {{ {selection} }} }} }}"
        for f in fields
    )


_PERSON = "personId name " + _links(_OF_PERSON, "creditCode name")
_SUBJECT = f"creditCode name {_links(_PEOPLE, 'personId name')} {_links(_FIRMS, 'creditCode name')}"
PEER_NETWORK = (
    "query($code: String!) { subjects(where: {creditCode: {eq: $code}}, limit: 1) { "
    f"creditCode name {_links(_PEOPLE, _PERSON)} {_links(_FIRMS, _SUBJECT)} }} }}"
)


COMPUTED = "lookup-computed"  # the lookup load with the hub's response cache off
HEADER = (
    "| load | server | req/s | p50 ms | p99 ms | CPU ms/req | Neo4j ms/req | kept | by round "
    "| total | failed |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


@dataclass
class Round:
    side: str  # "hub" or "peer"
    requests: int
    seconds: float
    failed: int
    p50_ms: float
    p99_ms: float
    cpu: float  # the server's processes, user + system seconds
    neo4j_cpu: float
    hits: int = 0  # answers the hub served kept (X-Cache: hit)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Server:
    side: str
    base: str
    pid: int
    query: str


def installed() -> None:
    """The peer's packages exactly as locked; `npm ci` when they are missing or stale."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("node is not installed: install Node.js 20 and npm (the peer runs on it)")
    marker = PEER / "node_modules" / ".package-lock.json"
    lock = PEER / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    say("installing the peer's packages (npm ci in bench/peer)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True)


@contextmanager
def peer(workers: int) -> Iterator[tuple[str, int]]:
    """The @neo4j/graphql server on the bench stack's Neo4j, ready when this yields: (its URL,
    its pid); its packages installed first (`installed`)."""
    log = DATA / "logs" / "peer.log"
    proc = services.spawn(
        ["node", str(PEER / "server.mjs")],
        log,
        env={
            "PEER_PORT": str(PEER_PORT),
            "PEER_NEO4J_URI": f"bolt://127.0.0.1:{PORTS['neo4j']}",
            "PEER_WORKERS": str(workers),
        },
    )
    base = f"http://127.0.0.1:{PEER_PORT}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=2)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the peer did not start; see {log}")
            time.sleep(0.5)
        yield base, proc.pid
    finally:
        services.stop_process(proc.pid)


def ask(base: str, query: str, code: str, token: str) -> dict[str, Any]:
    """One answer; asked up to three times, as the first queries on a cold store may run past the
    hub's time limit."""
    for _ in range(3):
        answer = httpx.post(
            f"{base}/graphql",
            json={"query": query, "variables": {"code": code}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        if not answer.get("errors"):
            data: dict[str, Any] = answer["data"]
            return data
    raise SystemExit(f"{base} failed on {code}: {answer['errors']}")


def peer_nodes(answer: Any, found: set[str] | None = None) -> set[str]:
    """The peer's nested neighbourhood as the hub's node ids (Subject:code, Person:id)."""
    found = set() if found is None else found
    if isinstance(answer, dict):
        if "creditCode" in answer:
            found.add(f"Subject:{answer['creditCode']}")
        elif "personId" in answer:
            found.add(f"Person:{answer['personId']}")
        answer = list(answer.values())
    if isinstance(answer, list):
        for item in answer:
            peer_nodes(item, found)
    return found


def agreed(hub: str, other: str, codes: list[str], lookup_token: str, net_token: str) -> str:
    """Both sides must return the same subjects before anything is timed (a peer that answers
    nothing fast is no peer); the neighbourhoods are compared and the agreement reported."""
    for code in codes:
        mine = ask(hub, QUERY, code, lookup_token)["subject"]
        theirs = ask(other, PEER_LOOKUP, code, lookup_token)["subjects"]
        if not mine or not theirs:
            side = "the peer" if mine else "the hub"
            raise SystemExit(f"{side} found no subject {code}; not timed")
        seen = [
            (s["creditCode"], s["name"], (s["rating"] or {}).get("grade"))
            for s in (mine, {**theirs[0], "rating": (theirs[0]["rating"] or [None])[0]})
        ]
        if seen[0] != seen[1]:
            raise SystemExit(f"hub and peer disagree on {code}: {seen[0]} vs {seen[1]}; not timed")
    same, sizes = 0, []
    for code in codes:
        mine_net = {n["id"] for n in ask(hub, HUB_NETWORK, code, net_token)["network"]["nodes"]}
        theirs_net = peer_nodes(ask(other, PEER_NETWORK, code, net_token)["subjects"])
        if len(theirs_net) < 2 <= len(mine_net):
            raise SystemExit(f"the peer found no neighbourhood of {code}; not timed")
        same += mine_net == theirs_net
        sizes.append(len(mine_net))
    return (
        f"{len(codes)} sampled subjects: the same credit code, name and grade through both; "
        f"the same depth-2 node set for {same} of them (hub: {sum(sizes) / len(sizes):.1f} "
        "nodes on average)"
    )


def drive(server: Server, codes: Path, token: str, seconds: int, connections: int) -> Round:
    """One wrk run against one side, with the CPU its processes and Neo4j spent meanwhile."""
    store = neo4j_pid()
    before, before_db = cpu_seconds(server.pid), cpu_seconds(store)
    data = wrk(
        server.base, codes, seconds, connections,
        BENCH_TOKEN=token, BENCH_QUERY=server.query.replace('"', '\\"'),
    )  # fmt: skip
    cpu, db = cpu_seconds(server.pid) - before, cpu_seconds(store) - before_db
    return Round(
        server.side,
        data["requests"],
        data["duration_us"] / 1e6,
        data["failed"] + data["socket_errors"],
        data["p50_us"] / 1e3,
        data["p99_us"] / 1e3,
        cpu,
        db,
        data["hits"],
    )


def alternate(
    pair: tuple[Server, Server], codes: Path, token: str, args: argparse.Namespace
) -> list[Round]:
    """Warm each side up, then hub, peer, hub, peer...: drift on the machine hits both alike."""
    for server in pair:
        say(f"  {server.side}: warm-up {args.warmup} s")
        drive(server, codes, token, args.warmup, args.connections)
    rounds = []
    for n in range(args.rounds):
        for server in pair:
            run = drive(server, codes, token, args.seconds, args.connections)
            cpu_ms = run.cpu * 1e3 / max(run.requests, 1)
            say(
                f"  {server.side} round {n + 1}: {run.rate:,.0f}/s, p50 {run.p50_ms:.1f} ms, "
                f"p99 {run.p99_ms:.1f} ms, {cpu_ms:.2f} ms CPU a request"
            )
            if run.failed > run.requests / 100:
                raise SystemExit(
                    f"{server.side}: {run.failed} of {run.requests} failed; not recorded"
                )
            rounds.append(run)
    return rounds


@dataclass
class Side:
    """One side's rounds of one load, summed."""

    rounds: list[Round]

    @property
    def rate(self) -> float:
        return sum(r.requests for r in self.rounds) / sum(r.seconds for r in self.rounds)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.rounds)

    @property
    def p50_ms(self) -> float:
        return max(r.p50_ms for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        return max(r.p99_ms for r in self.rounds)

    @property
    def cpu_ms(self) -> float:
        return sum(r.cpu for r in self.rounds) * 1e3 / max(self.requests, 1)

    @property
    def db_ms(self) -> float:
        return sum(r.neo4j_cpu for r in self.rounds) * 1e3 / max(self.requests, 1)

    @property
    def kept(self) -> float:
        return sum(r.hits for r in self.rounds) / max(self.requests, 1)


def sides(rounds: list[Round]) -> tuple[Side, Side]:
    return Side([r for r in rounds if r.side == "hub"]), Side(
        [r for r in rounds if r.side == "peer"]
    )


def table(name: str, rounds: list[Round]) -> tuple[str, float]:
    """The rows of one load, and the hub's throughput ratio to the peer's."""
    hub, other = sides(rounds)
    rows = "\n".join(
        f"| {name} | {label} | {s.rate:,.0f} | {s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.cpu_ms:.2f} | "
        f"{s.db_ms:.2f} | {s.kept:.0%} | {' / '.join(f'{r.rate:,.0f}' for r in s.rounds)} | "
        f"{s.requests:,} | {sum(r.failed for r in s.rounds)} |"
        for label, s in (("hub", hub), ("@neo4j/graphql", other))
    )
    return rows, hub.rate / other.rate


def record(
    rounds: dict[str, list[Round]],
    args: argparse.Namespace,
    subjects: int,
    agreement: str,
    load: float,
) -> str:
    lookup_rows, lookup_ratio = table("lookup", rounds["lookup"])
    cold_rows, cold_ratio = table("lookup, every answer computed", rounds[COMPUTED])
    net_rows, net_ratio = table("depth-2 network", rounds["network"])
    hub = sides(rounds["lookup"])[0]
    verdict = "meets" if lookup_ratio >= 1.5 and hub.p99_ms < 20 else "misses"
    given = " ".join(sys.argv[1:])
    command = f'make bench-peer BENCH_ARGS="{given}"' if given else "make bench-peer"
    store = os.environ.get("HUB_BENCH_STORE", "bench")
    version = json.loads(
        (PEER / "node_modules" / "@neo4j" / "graphql" / "package.json").read_text()
    )
    return f"""## The hub against @neo4j/graphql (issue 17)

`{f"HUB_BENCH_STORE={store} " if store != "bench" else ""}{command}` on
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {subjects:,} subjects in the graph (`.data/{store}`),
both servers on the same Neo4j at once: the hub (`hub serve`, {args.workers} uvicorn workers,
access filter, masking, rate limit and audit on) and @neo4j/graphql {version["version"]}
(bench/peer/server.mjs on Node {
        subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    }, {args.peer_workers} cluster workers, parse and validation cached, no
auth). wrk with {args.connections} keep-alive connections over the same codes, {args.warmup} s
warm-up each, then {args.rounds} alternating rounds of {args.seconds} s (hub, peer, hub, peer);
everything on one {os.cpu_count()}-core machine (1-minute load average {load:.1f} when the run
began: other work shares it). {agreement}.

{HEADER}
{lookup_rows}
{cold_rows}
{net_rows}

p50 and p99 are the worst round's; CPU ms/req is the user + system CPU of the server's processes
per request, Neo4j ms/req Neo4j's in the same rounds (/proc); "kept": the share of answers the
hub served from its response cache (docs/performance.md; the second lookup load starts the hub
with it off); "by round" is req/s. Hub/peer throughput: lookup **{lookup_ratio:.2f}x** (every
answer computed: **{cold_ratio:.2f}x**), depth-2 network **{net_ratio:.2f}x**. Target (lookup ≥
1.5x the peer, hub p99 < 20 ms): **{verdict}**.

- Lookup, hub: `subject(creditCode)` with creditCode, name, status, division (code and name),
  legal representative (name, masked ID), rating (grade, score), records (id, item, tier,
  decidedOn) and sanctions (listing, measures), as `make bench` asks, for a partner.
- Lookup, peer: `subjects(where: {{creditCode: {{eq: $code}}}}, limit: 1)` with creditCode, name,
  status, division (the code only), the current legal representative (newest link without an
  end; name, masked ID), the newest rating (grade, score), published records newest first (at
  most 100) and sanctions (listing, measures); no read scope, no masking, no audit.
- Depth-2 network, hub: `network(creditCode, depth: 2, relations: [{", ".join(RELATIONS)}])`
  (nodes: id, kind, label; edges: kind, source, target) for an investigator: links valid today,
  read scope, 50 links a node, 200 nodes, audited.
- Depth-2 network, peer: connection fields over the same three relationships, links without an
  end date, 50 a field: the subject's legal representatives, shareholders and officers (people)
  and its corporate shareholders and holdings (subjects), each with theirs (personId or
  creditCode, name): the same nodes, nested, without edge records.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20, help="per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="the hub's uvicorn workers")
    parser.add_argument("--peer-workers", type=int, default=2, help="the peer's Node processes")
    parser.add_argument("--check", type=int, default=20, help="subjects compared before timing")
    args = parser.parse_args()
    installed()
    load = os.getloadavg()[0]
    with stack():
        subjects = seeded(args.subjects)
        codes = asyncio.run(sample_codes(20_000, 1))
        codes_path = codes_file(codes)
        partner = dev_token("partner", "BANK-BENCH", "SHARED", "loan-review")
        investigator = dev_token("investigator", "NMG150000", "RESTRICTED", "investigation:BENCH")
        command = [sys.executable, "-m", "hub", "serve", "--workers", str(args.workers)]
        rounds: dict[str, list[Round]] = {}
        with peer(args.peer_workers) as (base, pid):
            for cache in (True, False):  # the hub as shipped, then computing every answer
                with serving(command, cache=cache) as (hub_base, hub_pid):
                    if cache:
                        say(f"comparing {args.check} subjects through both")
                        agreement = agreed(
                            hub_base, base, codes[: args.check], partner, investigator
                        )
                        say(f"  {agreement}")
                    loads = (
                        [("lookup", partner, (QUERY, PEER_LOOKUP)),
                         ("network", investigator, (HUB_NETWORK, PEER_NETWORK))]
                        if cache else [(COMPUTED, partner, (QUERY, PEER_LOOKUP))]
                    )  # fmt: skip
                    for kind, token, queries in loads:
                        say(f"{kind}: hub and peer in turn")
                        pair = (Server("hub", hub_base, hub_pid, queries[0]),
                                Server("peer", base, pid, queries[1]))  # fmt: skip
                        rounds[kind] = alternate(pair, codes_path, token, args)
                        ratio = sides(rounds[kind])[0].rate / sides(rounds[kind])[1].rate
                        say(f"  hub/peer: {ratio:.2f}x")
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "peer.json").write_text(
        json.dumps({k: [asdict(r) for r in v] for k, v in rounds.items()}, indent=1)
    )
    write_block("peer", record(rounds, args, subjects, agreement, load))
    say("results written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
