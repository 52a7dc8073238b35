"""`make bench-archive`: a 1,000,000-row archive import and `hub rate --all`, with baselines.

Uses the lookup benchmark's stack under ``.data/bench`` (seeded to ``--subjects`` when short).

1. Writes a CSV archive of ``--rows`` credit records from the region unit over the seeded
   subjects (Chinese headings as units keep them; 1% of rows malformed on purpose).
2. Baseline: the same file read and validated without writing (what Python alone costs).
3. ``hub archive import`` of the file: rows/s, the importing process's peak memory, and the CPU
   seconds of the importer and of Neo4j per 1,000 rows (wall times vary ±20% on 2 shared cores).
4. The same import again: every row ``unchanged``, nothing created (idempotence), rows/s.
5. Baseline: the rating inputs of every subject read without rating or writing.
6. ``hub rate --all``: subjects/s.

The imported records are deleted afterwards, so runs compare like with like.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench.common import cpu_seconds, say, write_block
from bench.run import DATA, ROOT, neo4j_pid, stack, subject_count
from graph.archive.files import read_archive
from graph.archive.imports import parsed
from graph.db import Neo4jConfig, connect
from graph.rating import INPUTS, PAGE, uncounted
from hub.settings import get_settings

UNIT = "NMG150000"  # the region unit: every subject is in its jurisdiction
TARGET = 15_000  # rows/s, issue 17
HEADER = ["事项代码", "统一社会信用代码", "严重程度", "标题", "决定日期", "决定文书号", "法律依据"]
ITEMS = [
    ("ADMIN_LICENCE", None),
    ("ADMIN_PENALTY", "MINOR"),
    ("ADMIN_PENALTY", "GENERAL"),
    ("IDLE_LAND", "GENERAL"),
    ("COMMENDATION", None),
    ("CREDIT_COMMITMENT", None),
]


async def all_codes() -> list[str]:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    try:
        records, _, _ = await driver.execute_query("MATCH (s:Subject) RETURN s.creditCode AS c")
        return [r["c"] for r in records]
    finally:
        await driver.close()


def write_archive(path: Path, rows: int, codes: list[str], stamp: str) -> int:
    """The archive file; returns how many rows are malformed on purpose."""
    rng = random.Random(4)
    start = date(2012, 1, 1)
    span = (date.today() - start).days
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for n in range(rows):
            item, tier = ITEMS[n % len(ITEMS)]
            code = rng.choice(codes)
            if n % 100 == 99:
                code, bad = code[:-1] + ("0" if code[-1] != "0" else "1"), bad + 1
            decided = start + timedelta(days=rng.randrange(span))
            out.writerow(
                [
                    item,
                    code,
                    tier or "",
                    "历史档案记录",
                    decided.isoformat(),
                    f"蒙自然资〔{decided.year}〕{stamp}-{n}号",
                    "土地管理法",
                ]
            )
    return bad


def validate_only(path: Path) -> tuple[int, float]:
    started = time.monotonic()
    count = sum(1 for _ in parsed(read_archive(path), date.today()))
    return count, time.monotonic() - started


async def read_inputs_only() -> tuple[int, float]:
    """Every subject's rating inputs, page by page, nothing rated or written."""
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    started, done, after = time.monotonic(), 0, ""
    try:
        while True:
            records, _, _ = await driver.execute_query(PAGE, after=after, limit=2000)
            codes = [r["code"] for r in records]
            if not codes:
                return done, time.monotonic() - started
            await driver.execute_query(
                INPUTS, codes=codes, today=date.today(), uncounted=uncounted()
            )
            done, after = done + len(codes), codes[-1]
    finally:
        await driver.close()


async def delete_imported() -> int:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    total = 0
    try:
        while True:
            records, _, _ = await driver.execute_query(
                "MATCH (r:CreditRecord) WHERE r.sourceSystem = 'archive' "
                "WITH r LIMIT 20000 DETACH DELETE r RETURN count(*) AS n"
            )
            n = int(records[0]["n"])
            total += n
            if n == 0:
                async with driver.session() as session:  # IN TRANSACTIONS needs auto-commit
                    result = await session.run(
                        "MATCH (x:ImportRejection) CALL (x) { DELETE x } IN TRANSACTIONS"
                    )
                    await result.consume()
                return total
    finally:
        await driver.close()


def startup_mb() -> float:
    """Resident memory of the `hub` command once its modules are loaded, before any work."""
    probe = (
        "import resource, hub.cli.main, hub.cli.archive; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    return int(out.stdout.strip()) / 1024


@dataclass(frozen=True, slots=True)
class Timed:
    seconds: float
    line: str  # the command's last line on stderr: its summary
    cpu: float  # the command's user + system seconds
    neo4j_cpu: float  # Neo4j's over the same time


def timed_hub(*args: str) -> Timed:
    neo4j, children = neo4j_pid(), os.times()
    neo4j_before, started = cpu_seconds(neo4j), time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "hub", *args], cwd=ROOT, capture_output=True, text=True
    )
    seconds, after = time.monotonic() - started, os.times()
    if done.returncode not in (0, 3):
        raise SystemExit(f"hub {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    cpu = after.children_user + after.children_system
    cpu -= children.children_user + children.children_system
    line = done.stderr.strip().splitlines()[-1]
    return Timed(seconds, line, cpu, cpu_seconds(neo4j) - neo4j_before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with stack():
        have = asyncio.run(subject_count())
        if have < args.subjects:
            raise SystemExit(f"the bench graph has {have:,} subjects: run `make bench` first")
        say(f"removing archive records of earlier runs: {asyncio.run(delete_imported()):,}")
        codes = asyncio.run(all_codes())
        path = DATA / "archive.csv"
        say(f"writing a {args.rows:,}-row CSV archive over {len(codes):,} subjects")
        bad = write_archive(path, args.rows, codes, time.strftime("%H%M%S"))
        size_mb = path.stat().st_size / 1e6
        say("baseline: read and validate the file without writing")
        checked, check_s = validate_only(path)
        say(f"  {checked:,} rows in {check_s:.1f} s ({checked / check_s:,.0f} rows/s)")
        say("hub archive import (progress on stderr)")
        command = ("archive", "import", str(path), "--agency", UNIT)
        first = timed_hub(*command)
        say(f"  {first.line}")
        say("the same import again: every row unchanged")
        again = timed_hub(*command)
        say(f"  {again.line}")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        base_mb = startup_mb()
        say("baseline: read every subject's rating inputs, nothing written")
        read_n, read_s = asyncio.run(read_inputs_only())
        say(f"  {read_n:,} subjects in {read_s:.1f} s ({read_n / read_s:,.0f}/s)")
        say("hub rate --all")
        rate = timed_hub("rate", "--all")
        say(f"  {rate.line}")
        say(f"cleaning up: {asyncio.run(delete_imported()):,} archive records removed")
    subjects = len(codes)
    what = f"`hub archive import` ({size_mb:.0f} MB CSV, {bad:,} bad rows)"
    rows = [
        ("baseline", "read + validate the CSV, no writes", checked, "rows", check_s, None),
        ("import", what, args.rows, "rows", first.seconds, first),
        ("again", "the same file again (every row `unchanged`)", args.rows, "rows", again.seconds,
         again),
        ("baseline", "read every subject's rating inputs", read_n, "subjects", read_s, None),
        ("rate", "`hub rate --all`", subjects, "subjects", rate.seconds, rate),
    ]  # fmt: skip
    lines = [
        "| step | what | count | seconds | per second | CPU s per 1,000: command / Neo4j |",
        "|---|---|---|---|---|---|",
    ]
    for step, text, count, unit, seconds, timed in rows:
        per = f"{count / seconds:,.0f} {unit}"
        cpu = "—"
        if timed is not None:
            per = f"**{per}**"
            cpu = f"{timed.cpu * 1000 / count:.3f} / {timed.neo4j_cpu * 1000 / count:.3f}"
        lines.append(f"| {step} | {text} | {count:,} {unit} | {seconds:.1f} | {per} | {cpu} |")
    table = "\n".join(lines)
    imported = args.rows / first.seconds
    idempotent = ": 0 new, 0 updated," in again.line
    verdict = "meets" if imported >= TARGET and idempotent else "misses"
    block = f"""## Archive import and `hub rate --all` (issues 4 and 17)

Command: `make bench-archive` ({time.strftime("%Y-%m-%d %H:%M")} UTC; 2 cores shared by Neo4j
and the importer; graph of {subjects:,} subjects from `make bench`). Rows/s count the whole
`hub archive import` process, start-up and the printed report included.

{table}

Targets (issue 17): archive import ≥ {TARGET:,} rows/s, idempotent, constant memory:
**{verdict}** ({imported:,.0f} rows/s; the second run {
        "created and updated nothing" if idempotent else "wrote rows"
    }).

Peak resident memory of the importing process: **{peak_mb:,.0f} MB** for a {size_mb:.0f} MB file,
of which {base_mb:,.0f} MB is the `hub` command with its modules loaded, before reading anything:
rows are streamed, and the rest is the batches in flight (two lanes of 2,000 rows).
Import summary: `{first.line.split("; import")[0]}`; again:
`{again.line.split("; import")[0]}`. Rating summary: `{rate.line}`.
"""
    write_block("archive", block)
    say("written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
