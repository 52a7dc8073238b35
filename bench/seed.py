"""`make bench-seed`: build a large seeded graph from nothing and record how long it took.

Starts a fresh Neo4j under ``.data/bench-seed`` (wiped first), migrates, runs
``hub seed --subjects N`` through the same validated, batched ingestion as ``hub import``, and
writes rows/s, subjects/s, the CPU seconds of ``hub seed`` and of Neo4j per 1,000 rows and what
the graph then holds to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-seed"
PORT = 17887
TARGET_MINUTES = 10  # 1,000,000 subjects, issue 17

os.environ.update(HUB_DATA_DIR=str(DATA), HUB_NEO4J_URI=f"bolt://127.0.0.1:{PORT}")

from bench.common import cpu_seconds, say, write_block  # noqa: E402
from graph.db import Neo4jConfig, connect  # noqa: E402
from hub.cli import services  # noqa: E402


async def census() -> dict[str, int]:
    driver = connect(Neo4jConfig(uri=f"bolt://127.0.0.1:{PORT}"))
    try:
        counts: dict[str, int] = {}
        for label in ("Subject", "Person", "CreditRecord", "Licence", "Sanction", "Rating"):
            records, _, _ = await driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS n")
            counts[label] = int(records[0]["n"])
        records, _, _ = await driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n")
        counts["relationships"] = int(records[0]["n"])
        return counts
    finally:
        await driver.close()


def seed(subjects: int, seed: int) -> str:
    """Run `hub seed`, echoing its progress lines; return its summary line."""
    command = [sys.executable, "-m", "hub", "seed", "--subjects", str(subjects)]
    proc = subprocess.Popen(
        [*command, "--seed", str(seed)],
        cwd=ROOT,
        env={**os.environ, "HUB_PROGRESS_LOG": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    summary = ""
    for line in proc.stderr:
        print(line, end="", flush=True)
        if line.startswith("read "):
            summary = line
    if proc.wait() != 0 or not summary:
        raise SystemExit("hub seed failed; see the output above")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    shutil.rmtree(DATA, ignore_errors=True)
    spec = services.Neo4jSpec(DATA / "neo4j", port=PORT, pagecache="6g", heap="4g")
    say(f"fresh Neo4j under {DATA.relative_to(ROOT)} (page cache {spec.pagecache})")
    neo4j = services.start_neo4j(spec, ROOT / ".data" / "cache", DATA / "logs" / "neo4j.log")
    try:
        subprocess.run([sys.executable, "-m", "hub", "migrate"], check=True, cwd=ROOT)
        say(f"seeding {args.subjects:,} subjects")
        neo4j_before, children, started = cpu_seconds(neo4j.pid), os.times(), time.monotonic()
        summary = seed(args.subjects, args.seed)
        seconds, after = time.monotonic() - started, os.times()
        neo4j_cpu = cpu_seconds(neo4j.pid) - neo4j_before
        seed_cpu = after.children_user + after.children_system
        seed_cpu -= children.children_user + children.children_system
        rows = int(summary.split()[1])
        counts = asyncio.run(census())
        store = sum(f.stat().st_size for f in (DATA / "neo4j").rglob("*") if f.is_file())
    finally:
        services.stop_process(neo4j.pid)
    census_rows = "\n".join(f"| {k} | {v:,} |" for k, v in counts.items())
    minutes = seconds / 60 * 1_000_000 / args.subjects
    verdict = "meets" if minutes <= TARGET_MINUTES else "misses"
    block = f"""## Seeding {args.subjects:,} subjects (issue 2)

`make bench-seed` (`python -m bench.seed --subjects {args.subjects}`) on
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, into an empty Neo4j with its
constraints and indexes in place, through the same validation and batched `MERGE` writes as
`hub import` (10,000 rows per transaction, one written while the next is validated).

- {rows:,} rows in **{seconds / 60:.1f} min**: {rows / seconds:,.0f} rows/s,
  {args.subjects / seconds:,.0f} subjects/s.
- CPU per 1,000 rows: {seed_cpu * 1000 / rows:.3f} s of `hub seed` (generating, validating,
  sending), {neo4j_cpu * 1000 / rows:.3f} s of Neo4j.
- Target (issue 17): 1,000,000 subjects in ≤ {TARGET_MINUTES} min: **{verdict}**
  ({minutes:.1f} min for 1,000,000 at this rate).
- Store on disk afterwards: {store / 2**30:.1f} GiB.

| in the graph | count |
|---|---:|
{census_rows}
"""
    write_block("seed", block)
    say(f"{rows:,} rows in {seconds:.0f} s; results written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
