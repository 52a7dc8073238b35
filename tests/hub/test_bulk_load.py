"""`hub import --bulk` and `hub seed --bulk`: Neo4j's bulk importer builds the graph the
validated ``MERGE`` writes build, value for value, and touches neither a running nor an
existing store.

The bulk load runs the real command against a data directory of its own (its Neo4j and Redis
started by the command, stopped by `hub down`) with the seed's rows and awkward values; the
same rows are then loaded the usual way into the same store, wiped, and the two graphs
compared. `hub seed --bulk` sends the generator's rows down the same path (`make bench-seed`
runs it on 1,000,000 subjects).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from neo4j import GraphDatabase

from demo.seed import generate
from hub.cli import services
from tests.conftest import PROJECT_ROOT, TEST_DATA, free_port, hub_command

DATA = TEST_DATA / "bulk"
SUBJECTS = 400
AWKWARD_NAME = '内蒙古"引号",逗号\n换行有限公司'
# Values that differ between two loads of the same rows: when they ran, and the feed's event ids.
VOLATILE = {"firstSeen", "lastSeen", "appliedAt", "at", "createdAt"}
NODES = "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props"
RELATIONSHIPS = (
    "MATCH (a)-[r]->(b) RETURN elementId(a) AS a, type(r) AS type, properties(r) AS props, "
    "elementId(b) AS b"
)
WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"


@pytest.fixture(scope="module")
def env() -> Iterator[dict[str, str]]:
    """A data directory of its own; the suite's resolved Neo4j artifacts are shared."""
    shared = PROJECT_ROOT / ".data" / "cache"
    services.launcher_runtime(shared)  # resolved once for the whole suite
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    (DATA / "cache").symlink_to(shared)
    values = {
        **os.environ,
        "HUB_DATA_DIR": str(DATA),
        "HUB_NEO4J_URI": f"bolt://127.0.0.1:{free_port()}",
        "HUB_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "NEO4J_PAGECACHE": "256m",
        "NEO4J_HEAP": "512m",
    }
    try:
        yield values
    finally:
        # Killed, not stopped: the graph is thrown away, and a clean shutdown takes seconds.
        for name in ("neo4j", "redis"):
            if pid := services.read_pid(DATA / "run", name):
                os.killpg(pid, signal.SIGKILL)
                services.stop_process(pid, timeout=10)


def _typed(props: dict[str, Any]) -> dict[str, Any]:
    """Values with their types (a date is not its ISO text); volatile ones by presence only."""
    return {
        k: type(v).__name__ if k in VOLATILE else [type(v).__name__, str(v)]
        for k, v in sorted(props.items())
    }


def dump(env: dict[str, str]) -> list[str]:
    """The graph as sorted lines: each node by labels and values, each relationship by type,
    values and its two nodes; what differs from one load to the next left out."""
    with GraphDatabase.driver(env["HUB_NEO4J_URI"]) as driver:
        nodes, _, _ = driver.execute_query(NODES)
        relationships, _, _ = driver.execute_query(RELATIONSHIPS)
    named: dict[str, str] = {}
    lines = []
    for node in nodes:
        props = dict(node["props"])
        if "OutboxEvent" in node["labels"]:
            props.pop("id")  # made from the clock
        if node["labels"] == ["Agency"]:
            # The department's units: migration 3 makes them before a usual load, which then
            # only updates them (no firstSeen); a bulk load makes them, migration 3 updates them.
            props.pop("firstSeen", None)
        named[node["id"]] = json.dumps([sorted(node["labels"]), _typed(props)], ensure_ascii=False)
        lines.append(named[node["id"]])
    for rel in relationships:
        lines.append(
            json.dumps(
                [named[rel["a"]], rel["type"], _typed(rel["props"]), named[rel["b"]]],
                ensure_ascii=False,
            )
        )
    return sorted(lines)


def differences(bulk: list[str], usual: list[str]) -> tuple[list[str], list[str]]:
    """What only the bulk load has, and what only the usual one has (a few of each)."""
    return sorted(set(bulk) - set(usual))[:3], sorted(set(usual) - set(bulk))[:3]


def wipe(env: dict[str, str]) -> None:
    """An empty graph and Redis, the store's files kept: for the usual load to start from."""
    with GraphDatabase.driver(env["HUB_NEO4J_URI"]) as driver, driver.session() as session:
        session.run(WIPE).consume()
    port = env["HUB_REDIS_URL"].rsplit(":", 1)[1].split("/")[0]
    subprocess.run(["redis-cli", "-p", port, "flushall"], check=True, capture_output=True)


def counts(env: dict[str, str]) -> dict[str, int]:
    with GraphDatabase.driver(env["HUB_NEO4J_URI"]) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n"
        )
    return {r["label"]: r["n"] for r in records}


def _awkward_rows() -> list[dict[str, Any]]:
    """The seed's rows with the values a CSV file finds hard: quotes, commas, line breaks (LF
    and CRLF), empty lists, a local rating time, and an older rating after a newer one."""
    rows = list(generate(SUBJECTS, 7))
    subjects = [r for r in rows if r["kind"] == "Subject"]
    records = [r for r in rows if r["kind"] == "CreditRecord"]
    sanctions = [r for r in rows if r["kind"] == "Sanction"]
    ratings = [r for r in rows if r["kind"] == "Rating"]
    assert subjects and records and sanctions and ratings
    subjects[0]["name"] = AWKWARD_NAME
    records[0]["title"] = 'a "quoted", comma\r\nand CRLF title'
    records[1]["legalBasis"] = "第一款;第二款"  # the importer's default array delimiter
    sanctions[0]["measures"] = []
    ratings[0]["measures"] = []
    ratings[1]["computedAt"] = "2026-10-01T08:30:00"  # no offset: a local date-time
    newer = {**ratings[2], "id": "RT-NEWER", "grade": "C", "score": 12.5}
    newer["computedAt"] = "2026-11-20T00:00:00+08:00"
    older = {**ratings[3], "id": "RT-OLDER", "grade": "AAA", "score": 99.0}
    older["computedAt"] = "2020-01-01T00:00:00+08:00"
    return [*rows, newer, older]


def _subject(env: dict[str, str], code: str) -> dict[str, Any]:
    with GraphDatabase.driver(env["HUB_NEO4J_URI"]) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (s:Subject {creditCode: $code}) RETURN properties(s) AS s", code=code
        )
    return dict(records[0]["s"])


def test_bulk_import_builds_the_graph_the_usual_import_builds(
    env: dict[str, str], tmp_path: Path
) -> None:
    rows = _awkward_rows()
    source = tmp_path / "awkward.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))

    done = hub_command("import", "--bulk", str(source), env=env)
    assert f"{len(rows)} accepted, 0 rejected" in done.stderr, done.stderr[-2000:]
    assert "Neo4j and Redis are running" in done.stderr
    built = counts(env)
    assert built["Subject"] == SUBJECTS and built["Rating"] == SUBJECTS + 2
    assert built["Phone"] > 0 and built["OutboxEvent"] > 0  # contacts, and the feed's backfill
    bulk = dump(env)
    assert (
        _subject(env, rows[[r["kind"] for r in rows].index("Subject")]["creditCode"])["name"]
        == AWKWARD_NAME
    )
    rated = _subject(env, next(r for r in rows if r.get("id") == "RT-OLDER")["subject"])
    assert (rated["grade"], rated["score"]) != ("AAA", 99.0)  # the newer rating's, not the last

    # While its Neo4j runs, another bulk load is refused and changes nothing.
    again = hub_command("seed", "--bulk", "--subjects", "5", env=env, check=False)
    assert again.returncode != 0
    assert "Neo4j is running" in again.stderr and "hub down" in again.stderr
    assert dump(env) == bulk

    wipe(env)
    hub_command("migrate", env=env)
    hub_command("import", str(source), env=env)
    usual = dump(env)
    assert len(usual) > 10 * SUBJECTS
    assert bulk == usual, differences(bulk, usual)


def test_bulk_load_refuses_a_store_that_holds_a_graph(tmp_path: Path) -> None:
    store = tmp_path / "neo4j" / "data" / "databases" / "neo4j"
    store.mkdir(parents=True)
    (store / "neostore").write_bytes(b"a graph")
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_NEO4J_URI": f"bolt://127.0.0.1:{free_port()}",
    }
    for command in (["seed", "--bulk", "--subjects", "5"], ["import", "--bulk", __file__]):
        refused = hub_command(*command, env=env, check=False)
        assert refused.returncode != 0 and "holds a graph already" in refused.stderr
    assert (store / "neostore").read_bytes() == b"a graph"
    assert not (tmp_path / "bulk").exists()  # nothing written for a refused load


def test_bulk_files_report_every_refused_row_and_keep_the_good_ones(tmp_path: Path) -> None:
    from graph.archive.bulk import write_bulk_files

    rows: list[Any] = list(generate(30, 5))
    assert rows
    subject = next(r for r in rows if r["kind"] == "Subject")
    record = next(r for r in rows if r["kind"] == "CreditRecord")
    codes = {r["creditCode"] for r in rows if r["kind"] == "Subject"}
    stranger = next(
        r["creditCode"]
        for r in generate(30, 6)
        if r["kind"] == "Subject" and r["creditCode"] not in codes
    )
    bad = [
        {**subject},  # the same subject again
        {**record, "id": "R-ORPHAN", "subject": stranger},  # no such subject
        {**record, "id": "R-BAD-DATE", "decidedOn": "yesterday"},
        {"kind": "Nothing"},
    ]
    report, files = write_bulk_files(
        [*rows, *bad], b"k" * 32, tmp_path / "bulk", datetime(2026, 11, 28, 12, 0)
    )
    assert report.accepted == len(rows)
    reasons = [(r.line, r.reason) for r in report.rejected]
    first = len(rows) + 1
    assert reasons == [
        (first, "duplicate-key"),
        (first + 1, "unknown-reference"),
        (first + 2, "invalid-date"),
        (first + 3, "unknown-kind"),
    ]
    written = "".join(s.path.read_text() for s in files.sources)
    assert "R-ORPHAN" not in written and "R-BAD-DATE" not in written
    assert subject["creditCode"] in written
