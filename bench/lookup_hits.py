"""`python -m bench.lookup_hits --base REV`: what a change to the lookup's Cypher costs Neo4j,
counted rather than timed: database hits of ``subject(creditCode)``'s query at a partner's scope,
summed over the same sample of subjects, for the query at git revision ``REV`` and for the
working tree's, in one run against one store.

Database hits repeat exactly from run to run, where wall times on a shared two-core machine move
by a fifth; a change to the lookup keeps its before-and-after here. Runs the benchmark stack of
``HUB_BENCH_STORE`` (default ``bench-portal``, the 20,000-subject graph `make bench-portal`
seeds) and writes the block ``lookup-hits`` of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import types
from typing import Any

os.environ.setdefault("HUB_BENCH_STORE", "bench-portal")

from bench.common import say, write_block
from bench.run import BANK, DATA, PORTS, ROOT, stack
from graph.db import Neo4jConfig, connect
from graph.subjects import NESTED_CAP, SUBJECT_BY_CODE
from policies.access import read_scope


def query_at(revision: str) -> str:
    """The lookup's Cypher as graph/subjects.py built it at ``revision``."""
    source = subprocess.run(
        ["git", "show", f"{revision}:graph/subjects.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("subjects_at_revision")
    sys.modules[module.__name__] = module  # its dataclasses look their module up
    try:
        exec(compile(source, f"{revision}:graph/subjects.py", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return str(module.SUBJECT_BY_CODE)


def hits(plan: dict[str, Any]) -> int:
    return int(plan.get("dbHits", 0)) + sum(hits(child) for child in plan.get("children", []))


async def count(queries: dict[str, str], sample: int, seed: int) -> dict[str, tuple[int, float]]:
    """(subjects found, database hits a lookup) of each query over the same sample of codes."""
    driver = connect(Neo4jConfig(uri=f"bolt://127.0.0.1:{PORTS['neo4j']}"))
    scope = read_scope(BANK).params()
    try:
        codes, _, _ = await driver.execute_query(
            "MATCH (s:Subject) RETURN s.creditCode AS code ORDER BY code"
        )
        assert codes, "the benchmark store holds no subjects: run `make bench-portal` first"
        chosen = random.Random(seed).sample([r["code"] for r in codes], min(sample, len(codes)))
        totals = {}
        for name, cypher in queries.items():
            found = total = 0
            async with driver.session() as session:
                for code in chosen:
                    result = await session.run(
                        "PROFILE " + cypher, code=code, cap=NESTED_CAP, **scope
                    )
                    found += len(await result.data())
                    summary = await result.consume()
                    total += hits(summary.profile or {})
            totals[name] = (found, total / len(chosen))
            say(f"{name}: {total / len(chosen):,.1f} database hits a lookup ({found} found)")
        return totals
    finally:
        await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    queries = {f"at {args.base}": query_at(args.base), "working tree": SUBJECT_BY_CODE}
    with stack():
        totals = asyncio.run(count(queries, args.sample, args.seed))
    (_, before), (_, after) = totals.values()
    rows = "\n".join(f"| {name} | {found} | {per:,.1f} |" for name, (found, per) in totals.items())
    write_block(
        "lookup-hits",
        f"""## The lookup's Cypher, counted (database hits)

`python -m bench.lookup_hits --base {args.base}` against `{DATA.relative_to(ROOT)}`: the same
{args.sample} subjects (seed {args.seed}) looked up at a partner's scope, PROFILE summed.

| query | subjects found | database hits a lookup |
|---|---|---|
{rows}

The working tree's query costs {after / before:.3f}× the hits of the one at `{args.base}`.
""",
    )


if __name__ == "__main__":
    main()
