"""The distribution of grades over a rated graph, for bench/RESULTS.md and docs/rating.md.

Reads the graph the settings point at (``HUB_NEO4J_URI``): how many subjects hold each grade,
and of those without a trustworthy record in force (no positive evidence) how many hold each
grade, so the table shows that class A is earned. Writes its block to bench/RESULTS.md when
``--block`` names one.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from bench.common import say, write_block
from graph.db import Neo4jConfig, connect
from hub.settings import get_settings
from policies.credit.rating import GRADES

GRADES_QUERY = """
MATCH (s:Subject)
WITH s, EXISTS {
  MATCH (s)-[:HAS_RECORD]->(r:CreditRecord)
  WHERE r.category = 'TRUSTWORTHY' AND r.status = 'PUBLISHED'
    AND (r.publishUntil IS NULL OR r.publishUntil >= $today)
} AS evidence
RETURN coalesce(s.grade, 'unrated') AS grade, evidence, count(*) AS n
"""
VERSIONS = "MATCH (rt:Rating) RETURN rt.modelVersion AS version, count(*) AS n ORDER BY version"


async def census() -> tuple[dict[tuple[str, bool], int], dict[str, int]]:
    settings = get_settings()
    driver = connect(Neo4jConfig(uri=settings.neo4j_uri))
    try:
        rows, _, _ = await driver.execute_query(GRADES_QUERY, today=datetime.now(UTC).date())
        versions, _, _ = await driver.execute_query(VERSIONS)
    finally:
        await driver.close()
    counts = {(r["grade"], r["evidence"]): r["n"] for r in rows}
    return counts, {r["version"]: r["n"] for r in versions}


def table(counts: dict[tuple[str, bool], int]) -> str:
    total = sum(counts.values())
    bare = sum(n for (_, evidence), n in counts.items() if not evidence)
    lines = [
        "| grade | subjects | share | of them without evidence |",
        "|---|---:|---:|---:|",
    ]
    grades = [*GRADES, *sorted({g for g, _ in counts} - set(GRADES))]
    for grade in grades:
        n = counts.get((grade, True), 0) + counts.get((grade, False), 0)
        if n:
            lines.append(
                f"| {grade} | {n:,} | {n / total:.1%} | {counts.get((grade, False), 0):,} |"
            )
    by_class = {c: 0 for c in "ABC"}
    for (grade, _), n in counts.items():
        if grade in GRADES:
            by_class[grade[0]] += n
    lines.append(f"| **all** | {total:,} | 100% | {bare:,} |")
    lines.append("")
    lines.append(
        "By class: " + ", ".join(f"{c} {n:,} ({n / total:.1%})" for c, n in by_class.items()) + "."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--title", default="Grade distribution")
    parser.add_argument("--how", default="", help="How the graph was built and rated.")
    parser.add_argument("--block", help="Write this block of bench/RESULTS.md.")
    args = parser.parse_args()
    counts, versions = asyncio.run(census())
    if not counts:
        raise SystemExit("the graph has no subjects")
    text = table(counts)
    models = ", ".join(f"{v} ({n:,})" for v, n in versions.items())
    block = (
        f"## {args.title}\n\n{args.how}\n\n"
        f"Counted {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m bench.grades` "
        f"(Cypher in bench/grades.py). Ratings by model version: {models}.\n\n{text}\n"
    )
    print(block)
    if args.block:
        write_block(args.block, block)
        say(f"wrote the {args.block} block of bench/RESULTS.md")


if __name__ == "__main__":
    main()
