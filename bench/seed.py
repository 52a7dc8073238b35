"""`make bench-seed`: build a large seeded graph from nothing, both ways, and record the times.

Each way starts from an empty data directory (``.data/bench-seed``, wiped first; the Maven
artifacts are shared) and ends with a graph the API can serve: Neo4j and Redis running, every
migration applied (constraints and indexes populated), the feed backfilled.

- **bulk**: ``hub seed --bulk``: the rows validated into CSV files, Neo4j's bulk importer,
  then Neo4j started, migrated and the feed backfilled.
- **merge**: ``hub up --stores-only``, ``hub migrate``, ``hub seed``: the same rows through
  the batched ``MERGE`` writes of ``hub import`` into the running store (the baseline).

By default the bulk way seeds 1,000,000 subjects (the target of issue 17) and the merge way
100,000 in the same run (at 1,000,000 it takes about 20 minutes); rows/s and CPU per 1,000
rows compare them. The results go to ``bench/RESULTS.md`` (block "seed").
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from neo4j import GraphDatabase

from bench.common import cpu_seconds, say, write_block
from hub.cli import services

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-seed"
NEO4J_PORT, REDIS_PORT = 17887, 16887
TARGET_MINUTES = 10  # 1,000,000 subjects, issue 17
PHASES = {
    "rows": r"^read \d+ lines: .* in ([\d.]+) s",
    "backfill": r"^feed backfill: .* in ([\d.]+) s",
}
LABELS = ("Subject", "Person", "CreditRecord", "Licence", "Sanction", "Rating", "Phone")
ENV = {
    "HUB_DATA_DIR": str(DATA),
    "HUB_NEO4J_URI": f"bolt://127.0.0.1:{NEO4J_PORT}",
    "HUB_REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "NEO4J_PAGECACHE": "6g",
    "NEO4J_HEAP": "4g",
    "HUB_PROGRESS_LOG": "1",
}


@dataclass(frozen=True, slots=True)
class Run:
    way: str
    subjects: int
    rows: int
    seconds: float
    hub_cpu: float  # the hub commands and the importer they ran
    neo4j_cpu: float  # the Neo4j server, from its start
    counts: dict[str, int]
    store_gib: float
    lines: list[str]

    @property
    def minutes_per_million(self) -> float:
        return self.seconds / 60 * 1_000_000 / self.subjects


def hub(*args: str) -> list[str]:
    """Run a hub command against the bench's data directory, echoing its progress; its lines."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", *args],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        if not line.startswith(".........."):  # the importer's progress dots
            print(line, end="", flush=True)
            lines.append(line)
    if proc.wait() != 0:
        raise SystemExit(f"hub {' '.join(args)} failed; see the output above")
    return lines


def phases(lines: list[str], seconds: float) -> str:
    """Where a bulk load's time went, from its own report lines."""
    found = {
        name: float(match.group(1))
        for line in lines
        for name, pattern in PHASES.items()
        if (match := re.search(pattern, line))
    }
    imported = next((line.strip() for line in lines if line.startswith("IMPORT DONE")), "")
    rest = seconds - found.get("rows", 0) - found.get("backfill", 0)
    return (
        f"validating the rows into CSV {found.get('rows', 0):.0f} s; then {rest:.0f} s for "
        f"`neo4j-admin` ({imported.removeprefix('IMPORT DONE in ').rstrip('. ')}), Neo4j's "
        f"start and the migrations (indexes populated); the feed's backfill "
        f"{found.get('backfill', 0):.0f} s"
    )


def census() -> dict[str, int]:
    with GraphDatabase.driver(ENV["HUB_NEO4J_URI"]) as driver:
        counts: dict[str, int] = {}
        for label in LABELS:
            records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS n")
            counts[label] = int(records[0]["n"])
        records, _, _ = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n")
        counts["relationships"] = int(records[0]["n"])
        return counts


def run(way: str, subjects: int, seed: int) -> Run:
    """One way from an empty data directory to a served graph; stopped again afterwards."""
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    shared = ROOT / ".data" / "cache"
    services.launcher_runtime(shared)
    (DATA / "cache").symlink_to(shared)
    say(f"{way}: {subjects:,} subjects into an empty store under {DATA.relative_to(ROOT)}")
    seeding = ["seed", "--subjects", str(subjects), "--seed", str(seed)]
    before, started = os.times(), time.monotonic()
    try:
        if way == "bulk":
            lines = hub(*seeding, "--bulk")
        else:
            lines = [*hub("up", "--stores-only"), *hub("migrate"), *hub(*seeding)]
        seconds, after = time.monotonic() - started, os.times()
        pid = services.read_pid(DATA / "run", "neo4j")
        assert pid is not None, "Neo4j is not running after the seed"
        neo4j_cpu = cpu_seconds(pid)
        counts = census()
    finally:
        hub("down")
    hub_cpu = after.children_user + after.children_system
    hub_cpu -= before.children_user + before.children_system
    store = sum(f.stat().st_size for f in (DATA / "neo4j").rglob("*") if f.is_file())
    rows = int(next(line for line in lines if line.startswith("read ")).split()[1])
    return Run(way, subjects, rows, seconds, hub_cpu, neo4j_cpu, counts, store / 2**30, lines)


def _row(r: Run) -> str:
    return (
        f"| {r.way} | {r.subjects:,} | {r.rows:,} | {r.seconds / 60:.1f} min | "
        f"{r.rows / r.seconds:,.0f} | {r.hub_cpu * 1000 / r.rows:.3f} | "
        f"{r.neo4j_cpu * 1000 / r.rows:.3f} | {r.minutes_per_million:.1f} min |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1_000_000, help="for the bulk way")
    parser.add_argument("--merge-subjects", type=int, default=100_000, help="0: no baseline")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    runs = []
    if args.merge_subjects:
        runs.append(run("merge", args.merge_subjects, args.seed))
    runs.append(run("bulk", args.subjects, args.seed))
    bulk = runs[-1]
    verdict = "meets" if bulk.minutes_per_million <= TARGET_MINUTES else "misses"
    census_rows = "\n".join(f"| {k} | {v:,} |" for k, v in bulk.counts.items())
    ratio = ""
    if len(runs) == 2:
        merge = runs[0]
        ratio = (
            f"\nThe bulk way loads {bulk.rows / bulk.seconds / (merge.rows / merge.seconds):.1f}x "
            "the rows a second of the merge way, in the same run."
        )
    command = (
        f"python -m bench.seed --subjects {args.subjects} --merge-subjects {args.merge_subjects}"
    )
    block = f"""## Seeding 1,000,000 subjects (issues 2 and 17)

`make bench-seed` (`{command}`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC,
{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end. Each way from an empty
data directory to a graph the API can serve (Neo4j and Redis running, every migration applied
and its indexes populated, the feed backfilled); CPU is that of the hub commands (with the
importer they run) and of the Neo4j server, a 1,000 rows.

| way | subjects | rows | time | rows/s | hub CPU s | Neo4j CPU s | a million subjects |
|---|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(_row(r) for r in runs)}
{ratio}
The bulk way's time: {phases(bulk.lines, bulk.seconds)}.

Target (issue 17): 1,000,000 subjects in ≤ {TARGET_MINUTES} min: **{verdict}**
({bulk.minutes_per_million:.1f} min for 1,000,000 the bulk way). Store on disk afterwards:
{bulk.store_gib:.1f} GiB.

| in the graph (bulk) | count |
|---|---:|
{census_rows}
"""
    write_block("seed", block)
    say(f"bulk: {bulk.rows:,} rows in {bulk.seconds:.0f} s; results written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
