"""`make bench-plans`: every named query's plan on the 100k graph, and the ones that scan a label.

A query that filters on the first properties of a composite index alone (``{subject: $s}``
against ``(subject, seq)``) cannot seek it and reads every node of the label instead: a cost
that grows with the store and that the suite's small graph never shows. This EXPLAINs every
upper-case string constant (and dict of them) holding MATCH or MERGE in ``graph``,
``connectors`` and ``hub`` against the benchmark graph (``.data/bench``, built by `make
bench`), with every parameter null, and fails when a plan scans a label that grows with use or
every node, except the few that read or wipe every node on purpose (``WHOLE_GRAPH``).
Fragments that are not whole statements do not parse and are counted apart.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

from neo4j.exceptions import CypherSyntaxError

from bench.common import say, write_block
from bench.run import stack
from graph.db import Neo4jConfig, connect
from hub.settings import get_settings

PACKAGES = ("graph", "connectors", "hub")
# Labels whose count grows with the data or with use; a scan of a fixed, small label (Partner,
# Unit, Counter) is cheaper than an index and is allowed.
GROWING = (
    "AuditEvent", "CreditRecord", "Delivery", "ImportRejection", "OutboxEvent", "Person",
    "Rating", "Sanction", "Subject", "Phone", "Address", "Email", "Case", "CaseDocument",
)  # fmt: skip
# Statements that read or remove every node on purpose: a backup's dump and a restore's wipe.
WHOLE_GRAPH = frozenset(
    {"graph.backup.dump.NODES", "graph.backup.dump.LABELS", "graph.backup.load.WIPE"}
)
STATEMENT = re.compile(r"\b(MATCH|MERGE)\b")
PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def named_queries() -> Iterator[tuple[str, str]]:
    """(module.NAME, text) of every upper-case constant that holds a statement."""
    for package in PACKAGES:
        root = importlib.import_module(package)
        for found in pkgutil.walk_packages(root.__path__, f"{package}."):
            if found.name.endswith("__main__"):
                continue
            module = importlib.import_module(found.name)
            for name, value in vars(module).items():
                if not name.isupper():
                    continue
                items = value.items() if isinstance(value, dict) else [("", value)]
                for key, text in items:
                    if isinstance(text, str) and STATEMENT.search(text):
                        yield f"{found.name}.{name}{f'[{key}]' if key else ''}", text


def scans(plan: dict[str, Any]) -> Iterator[str]:
    """The label and all-node scans of a plan, as ``operator details``."""
    operator = plan["operatorType"].split("@")[0]
    details = plan.get("args", {}).get("Details", "")
    if operator == "AllNodesScan" or (
        "LabelScan" in operator and any(f":{label}" in details for label in GROWING)
    ):
        yield f"{operator} {details}"
    for child in plan.get("children", []):
        yield from scans(child)


async def explain_all() -> tuple[int, int, list[str]]:
    """(planned, fragments, scans found)."""
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    planned, fragments = 0, 0
    found: list[str] = []
    try:
        for name, text in dict(named_queries()).items():
            params = dict.fromkeys(PARAMETER.findall(text))
            try:
                async with driver.session() as session:
                    summary = await (await session.run(f"EXPLAIN {text}", params)).consume()
            except CypherSyntaxError:
                fragments += 1
                continue
            planned += 1
            if name not in WHOLE_GRAPH:
                found.extend(f"{name}: {scan}" for scan in scans(summary.plan or {}))
    finally:
        await driver.close()
    return planned, fragments, found


def main() -> None:
    with stack():
        planned, fragments, found = asyncio.run(explain_all())
    say(f"{planned} statements planned, {fragments} fragments skipped, {len(found)} scans")
    for line in found:
        say(f"  {line}")
    lines = "\n".join(f"- `{line}`" for line in found) or "none"
    write_block(
        "plans",
        f"""## Query plans on the 100k graph

Command: `make bench-plans`. {planned} named statements planned (EXPLAIN, parameters null),
{fragments} fragments skipped; label scans of growing labels or all nodes: {lines}
""",
    )
    if found:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
