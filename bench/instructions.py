"""Instructions a computed lookup costs the API process, counted by callgrind.

Wall time on a shared two-core machine varies by 10-20% between identical runs; the
instructions one process executes repeat to under 0.1%. The real app runs in-process over
httpx's ASGI transport against the bench's Neo4j and Redis (100,000 subjects), no answers kept,
four lookups at a time: once ``--lookups`` of them, once twice as many. The difference over
``--lookups`` is one lookup's cost, start-up and warm-up cancelling out. ``--against REV`` counts
a git revision's code the same way (a worktree under .data/), for an A/B of a change.

    python -m bench.instructions [--lookups 200] [--against HEAD~1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WARM = 100  # lookups before the counted ones: imports, caches and connections settle


async def _lookups(count: int, codes: list[str]) -> None:
    """The child: ``WARM`` then ``count`` computed lookups through the app, four at a time.
    It imports only the hub (of the code being counted, first on PYTHONPATH) and httpx."""
    import httpx

    from hub.http.app import create_app

    query, token = os.environ["BENCH_QUERY"], os.environ["BENCH_TOKEN"]
    app = create_app()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:

            async def lane(first: int, step: int, end: int) -> None:
                for n in range(first, end, step):
                    body = {"query": query, "variables": {"code": codes[n % len(codes)]}}
                    answer = await client.post("/graphql", json=body, headers=headers)
                    if answer.status_code != 200 or b'"errors"' in answer.content:
                        raise SystemExit(f"lookup failed: {answer.text[:300]}")

            await asyncio.gather(*(lane(k, 4, WARM + count) for k in range(4)))


def counted(source: Path, count: int, env: dict[str, str]) -> int:
    """Instructions of one child process running ``count`` lookups with ``source``'s code."""
    from bench.run import DATA

    out = DATA / f"callgrind-{os.getpid()}-{count}.out"
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
         sys.executable, __file__, "--child", str(count), env["BENCH_CODES"]],
        cwd=source, capture_output=True, text=True,
        env={**os.environ, **env, "PYTHONPATH": str(source)},
    )  # fmt: skip
    if run.returncode != 0:
        out.unlink(missing_ok=True)
        raise SystemExit(f"the lookups of {source} failed under callgrind:\n{run.stderr[-2000:]}")
    found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    out.unlink()
    if found is None:
        raise SystemExit(f"callgrind wrote no totals for {source}")
    return int(found.group(1))


def per_lookup(source: Path, lookups: int, env: dict[str, str]) -> float:
    from bench.common import say

    say(f"counting {lookups} and {2 * lookups} lookups of {source} under callgrind")
    once, twice = counted(source, lookups, env), counted(source, 2 * lookups, env)
    return (twice - once) / lookups


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A checkout of ``revision`` under the bench's data, sharing its .data, removed after."""
    from bench.run import DATA, ROOT

    path = DATA / "instructions-worktree"
    remove = ["git", "worktree", "remove", "--force", str(path)]
    subprocess.run(remove, cwd=ROOT, check=False, capture_output=True)  # a run cut short
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), revision], cwd=ROOT, check=True
    )
    (path / ".data").symlink_to(ROOT / ".data")
    try:
        yield path
    finally:
        subprocess.run(remove, cwd=ROOT, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--against", help="a git revision to count the same way")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)  # count, codes file
    args = parser.parse_args()
    if args.child is not None:
        asyncio.run(_lookups(int(args.child[0]), json.loads(Path(args.child[1]).read_text())))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    from bench.common import say, write_block
    from bench.run import DATA, QUERY, ROOT, bench_limits, dev_token, sample_codes, seeded, stack

    codes = DATA / "instructions-codes.json"
    env = {
        "HUB_LIMITS_FILE": str(bench_limits(cache=False)),
        "BENCH_CODES": str(codes),
        "BENCH_QUERY": QUERY,
        "BENCH_TOKEN": dev_token("partner", "BANK-BENCH", "SHARED", "credit-check"),
    }
    with stack():
        subjects = seeded(100_000)
        codes.write_text(json.dumps(asyncio.run(sample_codes(WARM + 2 * args.lookups, 7))))
        rows = [("this checkout", per_lookup(ROOT, args.lookups, env))]
        if args.against:
            with worktree(args.against) as source:
                rows.append((f"`{args.against}`", per_lookup(source, args.lookups, env)))
    table = "\n".join(
        ["| code | instructions a lookup |", "|---|---:|"]
        + [f"| {name} | {count / 1e6:,.2f} M |" for name, count in rows]
    )
    compared = ""
    if len(rows) == 2:
        change = rows[0][1] / rows[1][1] - 1
        compared = f"\nThis checkout: {abs(change):.1%} {'fewer' if change < 0 else 'more'} "
        compared += f"instructions a lookup than {rows[1][0]}.\n"
    given = " ".join(sys.argv[1:])
    command = "make bench-instructions" + (f' BENCH_ARGS="{given}"' if given else "")
    write_block(
        "instructions",
        f"""## Instructions a computed lookup costs the API (issue 17)

`{command}` ({args.lookups} and {2 * args.lookups} lookups, {subjects:,} subjects): make
bench's query for a partner, no answers kept, the app in one process under callgrind
(bench/instructions.py).

{table}
{compared}""",
    )
    say("written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
