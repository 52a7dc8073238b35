"""`make bench-batch`: subjects/s of ``subjectsByCode`` at 100 codes a request, against single
``subject(creditCode)`` lookups of the same fields in the same run.

Uses the stack and graph of `make bench` (``.data/bench``, seeded up to ``--subjects`` like
`make bench` does; ``HUB_BENCH_STORE=bench-portal`` takes the 20,000-subject graph of
`make bench-portal`). One API
(``--workers`` uvicorn workers) serves both loads, each with 16 keep-alive connections (wrk,
bench/lookup.lua) for ``--seconds`` after a 10 s warm-up, a partner token, codes it may see.
Besides subjects/s it counts the API processes' CPU milliseconds per subject (from /proc), which
do not move with the ±20% the shared machine adds to wall times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import cpu_seconds, say, write_block
from bench.run import codes_file, dev_token, sample_codes, seeded, serving, stack, wrk

# What a screening partner asks (docs/sanctions.md): 100 of these fit a partner's budget.
FIELDS = "creditCode name status grade rating { grade score } sanctions { listing measures status }"
SINGLE = f"query($code: String!) {{ subject(creditCode: $code) {{ {FIELDS} }} }}"
BATCH = f"query($codes: [String!]!) {{ subjectsByCode(creditCodes: $codes) {{ {FIELDS} }} }}"


@dataclass
class Load:
    name: str
    per_request: int  # subjects asked in one request
    requests: int
    seconds: float
    failed: int
    p50_ms: float
    p99_ms: float
    cpu_seconds: float  # the API processes', user + system

    @property
    def subjects_per_second(self) -> float:
        return self.requests * self.per_request / self.seconds

    @property
    def cpu_ms_per_subject(self) -> float:
        return self.cpu_seconds * 1e3 / max(self.requests * self.per_request, 1)


def load(base: str, pid: int, codes: Path, batch: int, seconds: int, connections: int) -> Load:
    """One wrk run of single lookups (``batch`` 1) or of batches of ``batch`` codes."""
    query = BATCH if batch > 1 else SINGLE
    token = dev_token("partner", "BANK-BENCH", "SHARED", "loan-review")
    before = cpu_seconds(pid)
    data = wrk(
        base, codes, seconds, connections, timeout="10s",
        BENCH_TOKEN=token, BENCH_BATCH=str(batch), BENCH_QUERY=query.replace('"', '\\"'),
    )  # fmt: skip
    cpu = cpu_seconds(pid) - before
    name = f"subjectsByCode, {batch} codes a request" if batch > 1 else "subject(creditCode)"
    return Load(
        name,
        batch,
        data["requests"],
        data["duration_us"] / 1e6,
        data["failed"] + data["socket_errors"],
        data["p50_us"] / 1e3,
        data["p99_us"] / 1e3,
        cpu,
    )


def record(loads: list[Load], args: argparse.Namespace, subjects: int) -> str:
    single, batch = loads
    rows = "\n".join(
        f"| {x.name} | {x.subjects_per_second:,.0f} | {x.requests / x.seconds:,.1f} | "
        f"{x.p50_ms:.1f} | {x.p99_ms:.1f} | {x.cpu_ms_per_subject:.3f} | {x.requests:,} | "
        f"{x.failed} |"
        for x in loads
    )
    given = " ".join(sys.argv[1:])
    command = f'make bench-batch BENCH_ARGS="{given}"' if given else "make bench-batch"
    store = os.environ.get("HUB_BENCH_STORE", "bench")
    verdict = "meets" if batch.subjects_per_second >= 10_000 else "misses"
    speed = batch.subjects_per_second / single.subjects_per_second
    thrift = single.cpu_ms_per_subject / batch.cpu_ms_per_subject
    return f"""## Batch lookup: screening a portfolio (issue 17)

`{f"HUB_BENCH_STORE={store} " if store != "bench" else ""}{command}` on
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {subjects:,} subjects in the graph (`.data/{store}`),
{args.seconds} s per load after 10 s of warm-up, {args.connections} keep-alive connections, one
API with {args.workers} uvicorn workers for both, a partner token, everything on one
{os.cpu_count()}-core machine. Both ask the same fields (`{FIELDS}`). The API keeps no answers
here (limits.yaml `cache.fields` emptied): a screening asks each code once, so every answer is
computed, as it would be at night.

| path | subjects/s | requests/s | p50 ms | p99 ms | API CPU ms/subject | requests | failed |
|---|---:|---:|---:|---:|---:|---:|---:|
{rows}

Batches of {batch.per_request} serve **{speed:.1f}x** the subjects/s of single lookups at
**{thrift:.1f}x** less API CPU per subject. Target (≥ 10,000 subjects/s at 100 codes a
request): **{verdict}**.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    with stack():
        subjects = seeded(args.subjects)
        codes = asyncio.run(sample_codes(20_000, 1))
        codes_path = codes_file(codes)
        command = [sys.executable, "-m", "hub", "serve", "--workers", str(args.workers)]
        loads = []
        # A nightly screening asks each code once: nothing to serve again, so no answers kept.
        with serving(command, cache=False) as (base, pid):
            for batch in (1, args.batch):
                say(f"{batch} code(s) a request: warm-up 10 s, then {args.seconds} s")
                load(base, pid, codes_path, batch, 10, args.connections)
                run = load(base, pid, codes_path, batch, args.seconds, args.connections)
                say(f"  {run.subjects_per_second:,.0f} subjects/s, p99 {run.p99_ms:.1f} ms, "
                    f"{run.cpu_ms_per_subject:.3f} ms API CPU a subject")  # fmt: skip
                loads.append(run)
    for run in loads:
        if run.failed > run.requests / 100:
            raise SystemExit(f"{run.name}: {run.failed} of {run.requests} failed; not recorded")
    write_block("batch", record(loads, args, subjects))
    say("results written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
