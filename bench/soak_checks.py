"""What the soak checks once its load is over, and its block in bench/RESULTS.md.

The promises: every error fell inside a fault's window and was a clear ``UNAVAILABLE`` (HTTP
503 with ``Retry-After``), or, for the killed API process, a refused or lost connection; every
record an approval answered PUBLISHED is published; every listing decision answered is in
force or ended as answered; every delivery of the outbox to the soak's partners arrived, none
dead and none unknown to the hub, with the repeats on the wire counted; each partner heard of
each listing decision and approval it must hear of, and the one that must not heard of none;
the polled feeds hold each event once, in order, the soak's listings included; every upload
imported every row; the audit chain verifies from its first event (``hub audit verify --full``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import say, write_block
from bench.soak_load import IMPORT, Failure, Load
from bench.soak_stack import ROOT
from graph.db import Neo4jConfig, connect
from hub.settings import get_settings
from policies.credit.measures import default_measures

Partners = dict[str, tuple[str, list[str], bool]]  # code -> (kind, events, polls)
LISTING = "ABNORMAL_OPERATION"

DELIVERIES = """
MATCH (d:Delivery) WHERE d.partner IN $partners
RETURN d.partner AS partner, d.event AS event, d.status AS status
"""
RECORDS = "MATCH (r:CreditRecord) WHERE r.id IN $ids RETURN r.id AS id, r.status AS status"
SANCTIONS = "MATCH (s:Sanction) WHERE s.id IN $ids RETURN s.id AS id, s.status AS status"
EVENTS = """
MATCH (e:OutboxEvent) WHERE e.sanction IN $ids
RETURN e.id AS id, e.type AS type, e.sanction AS sanction
"""


async def _read(query: str, **params: Any) -> list[dict[str, Any]]:
    driver = connect(Neo4jConfig(uri=get_settings().neo4j_uri))
    try:
        records, _, _ = await driver.execute_query(query, **params)
        return [dict(r) for r in records]
    finally:
        await driver.close()


async def drain(load: Load, partners: Partners, seconds: float) -> None:
    """Wait, ``seconds`` at most, until no delivery to the partners waits, every upload is
    finished and every polling partner has read its feed to the end."""
    deadline = time.monotonic() + seconds
    imports = dict(load.ledger.imports)
    while True:
        rows = await _read(DELIVERIES, partners=list(partners))
        waiting = sum(1 for r in rows if r["status"] == "PENDING")
        for import_id in list(imports):
            data = await load.hub.graphql(
                "import-status", load.tokens.submitter, IMPORT, {"id": import_id}
            )
            report = None if isinstance(data, Failure) else data["archiveImport"]
            if report is not None and report["status"] in ("DONE", "FAILED"):
                load.ledger.reports[import_id] = report
                del imports[import_id]
        behind = [code for code in load.tokens.feeds if await load.poll_feed(code)]
        if not (waiting or imports or behind):
            return
        if time.monotonic() > deadline:
            say(f"  drain gave up: {waiting} deliveries waiting, {len(imports)} imports running")
            return
        say(f"  {waiting} deliveries waiting, {len(imports)} imports running, "
            f"{len(behind)} feeds behind")  # fmt: skip
        await asyncio.sleep(10)


@dataclass
class Results:
    rows: list[tuple[str, str, bool]] = field(default_factory=list)  # promise, what, kept
    served: Counter[str] = field(default_factory=Counter)
    latency: dict[str, tuple[float, float]] = field(default_factory=dict)  # kind -> p50, p99 ms
    errors: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kept(self) -> bool:
        return all(ok for _, _, ok in self.rows)

    def add(self, promise: str, what: str, ok: bool) -> None:
        self.rows.append((promise, what, ok))
        say(f"  {'kept' if ok else 'FAILED'}: {promise}: {what}")

    def summary(self) -> dict[str, Any]:
        return {
            "kept": self.kept,
            "promises": [{"promise": p, "what": w, "kept": ok} for p, w, ok in self.rows],
            "served": dict(self.served),
            "latency_ms": self.latency,
            "windows": self.windows,
            "errors": self.errors,
            "refused": self.refused,
        }


def _inside(at: float, windows: list[Any]) -> list[Any]:
    """The windows open at ``at``, latest first (a grace may reach into the next fault)."""
    return [w for w in reversed(windows) if w.start <= at <= w.end]


def _errors(load: Load, windows: list[Any], results: Results) -> None:
    """Each error and refusal after the warm-up, with its window; those a promise does not
    allow."""
    bad = 0
    for f in load.ledger.failures:
        if f.at < 0:
            continue  # the warm-up's
        inside = _inside(f.at, windows)
        window = inside[0] if inside else None
        clear = f.code == "UNAVAILABLE" and f.http == 503 and f.retry_after
        lost = f.code.startswith("transport:") and any("API" in w.name for w in inside)
        allowed = bool(inside) and (clear or lost)
        bad += not allowed
        results.errors.append({
            "at": round(f.at, 1), "kind": f.kind, "code": f.code, "http": f.http, "api": f.api,
            "retryAfter": f.retry_after, "window": window.name if window else None,
            "allowed": allowed, "message": f.message,
        })  # fmt: skip
    for at, api, kind in load.ledger.refused:
        if at < 0:
            continue
        inside = _inside(at, windows)
        window = inside[0] if inside else None
        allowed = any("API" in w.name for w in inside)
        bad += not allowed
        results.refused.append({
            "at": round(at, 1), "api": api, "kind": kind,
            "window": window.name if window else None, "allowed": allowed,
        })  # fmt: skip
    total = len(results.errors) + len(results.refused)
    results.add(
        "errors only inside fault windows, each UNAVAILABLE (503, Retry-After) or a connection "
        "to the killed API process",
        f"{total - bad} of {total} as promised",
        bad == 0,
    )


def _receipts(path: str) -> tuple[Counter[str], set[tuple[str, str]], int]:
    """Webhook ids received (with repeats), (type, ref) pairs, and requests that failed
    verification."""
    ids: Counter[str] = Counter()
    refs, bad = set(), 0
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            row = json.loads(line)
            if "bad" in row:
                bad += 1
                continue
            ids[row["id"]] += 1
            refs.add((row["type"], row["ref"]))
    return ids, refs, bad


def _deliveries(
    load: Load, partners: Partners, receipts_of: Callable[[str], str], results: Results
) -> None:
    rows = asyncio.run(_read(DELIVERIES, partners=list(partners)))
    statuses = Counter(r["status"] for r in rows)
    expected = {code: {r["event"] for r in rows if r["partner"] == code} for code in partners}
    missing = unexpected = repeats = forged = 0
    for code in partners:
        ids, _, bad = _receipts(receipts_of(code))
        forged += bad
        missing += len(expected[code] - set(ids))
        unexpected += len(set(ids) - expected[code])
        repeats += sum(n - 1 for n in ids.values())
    results.add(
        "every delivery of the outbox arrived, exactly once by event id (a partner drops "
        "repeats of a webhook-id)",
        f"{len(rows):,} deliveries ({', '.join(f'{n:,} {s}' for s, n in statuses.items())}); "
        f"{missing} missing, {unexpected} unknown to the hub, {forged} failed verification; "
        f"{repeats} repeats on the wire",
        bool(rows) and missing == unexpected == forged == 0 and set(statuses) == {"DELIVERED"},
    )


def _decisions(
    load: Load, partners: Partners, receipts_of: Callable[[str], str], results: Results
) -> None:
    ledger = load.ledger
    records = asyncio.run(_read(RECORDS, ids=sorted(ledger.approved)))
    published = {r["id"] for r in records if r["status"] == "PUBLISHED"}
    results.add(
        "every approved record present afterwards",
        f"{len(published)} of {len(ledger.approved)} approved records PUBLISHED",
        bool(ledger.approved) and published == ledger.approved,
    )
    sanctions = {
        r["id"]: r["status"] for r in asyncio.run(_read(SANCTIONS, ids=list(ledger.listed)))
    }
    wrong = [
        s
        for s in ledger.listed
        if sanctions.get(s) != ("REPAIRED" if s in ledger.ended else "ACTIVE")
    ]
    results.add(
        "every listing decision answered is in force, or ended as answered",
        f"{len(ledger.listed)} listed, {len(ledger.ended)} of them ended; {len(wrong)} otherwise",
        bool(ledger.listed) and not wrong,
    )
    kinds = {m.partner_kind for m in default_measures().for_listing(LISTING)}
    events = asyncio.run(_read(EVENTS, ids=list(ledger.listed)))
    wanted = {("sanction.listed", s) for s in ledger.listed}
    wanted |= {("sanction.ended", s) for s in ledger.ended}
    short = {}
    for code, (kind, _, _) in partners.items():
        _, refs, _ = _receipts(receipts_of(code))
        if kind in kinds:
            short[code] = len(wanted - refs)
        else:
            short[code] = len(wanted & refs)  # a partner of another kind must hear of none
        if "record.published" in partners[code][1]:
            short[code] += len({("record.published", r) for r in ledger.approved} - refs)
    results.add(
        "each partner heard of each decision its kind must hear of, and no other",
        f"{len(wanted)} listing events ({len(events)} in the outbox) to the "
        f"{', '.join(sorted(kinds & {k for k, _, _ in partners.values()}))} partners, "
        f"{len(ledger.approved)} publications to the platform; not as promised: "
        + ", ".join(f"{c} {n}" for c, n in short.items()),
        not any(short.values()) and len(events) == len(wanted),
    )
    feed_events = {e["id"] for e in events}
    problems = []
    for code, entries in ledger.feeds.items():
        versions = [e["version"] for e in entries]
        ids = [e["eventId"] for e in entries]
        ours = feed_events & set(ids)
        must = feed_events if partners[code][0] in kinds else set()
        if versions != sorted(set(versions)) or len(ids) != len(set(ids)) or ours != must:
            problems.append(code)
    results.add(
        "the polled feeds hold each event once, in order, with this run's listings",
        f"{sum(len(e) for e in ledger.feeds.values())} entries polled by "
        f"{len(ledger.feeds)} partners; not as promised: {', '.join(problems) or 'none'}",
        bool(ledger.feeds) and not problems,
    )


def _imports(load: Load, results: Results) -> None:
    done = 0
    for import_id, rows in load.ledger.imports.items():
        data = load.ledger.reports.get(import_id)
        if data and data["status"] == "DONE" and data["read"] == rows and not data["rejected"]:
            done += data["created"] + data["updated"] + data["unchanged"] == rows
    total = len(load.ledger.imports)
    results.add(
        "every upload imported every row",
        f"{done} of {total} uploads DONE with every row",
        total > 0 and done == total,
    )


def _audit(results: Results) -> None:
    hub = [sys.executable, "-m", "hub", "audit"]
    drained = subprocess.run([*hub, "drain"], capture_output=True, text=True, cwd=ROOT)
    verified = subprocess.run([*hub, "verify", "--full"], capture_output=True, text=True, cwd=ROOT)
    said = (verified.stdout or verified.stderr).strip().splitlines()
    results.add(
        "the audit chain intact (hub audit verify --full)",
        f"{drained.stdout.strip()}; {said[0] if said else 'no output'}",
        drained.returncode == 0 and verified.returncode == 0,
    )


def check(
    load: Load, windows: list[Any], partners: Partners, receipts_of: Callable[[str], str]
) -> Results:
    results = Results(served=load.ledger.served)
    for kind, values in load.ledger.latency.items():
        cuts = sorted(values)
        p50, p99 = cuts[len(cuts) // 2], cuts[min(len(cuts) - 1, int(len(cuts) * 0.99))]
        results.latency[kind] = (round(p50 * 1e3, 1), round(p99 * 1e3, 1))
    results.windows = [vars(w) for w in windows]
    say("checking")
    _errors(load, windows, results)
    _decisions(load, partners, receipts_of, results)
    _deliveries(load, partners, receipts_of, results)
    _imports(load, results)
    _audit(results)
    return results


def record(results: Results, args: argparse.Namespace, windows: list[Any], spent: float) -> None:
    """The soak's block in bench/RESULTS.md."""
    command = " ".join(["make soak", *sys.argv[1:]]) if sys.argv[1:] else "make soak"
    kinds = sorted(results.served)
    served = "\n".join(
        f"| {k} | {results.served[k]:,} | {results.latency.get(k, (0, 0))[0]} | "
        f"{results.latency.get(k, (0, 0))[1]} | "
        f"{sum(1 for e in results.errors if e['kind'] == k)} |"
        for k in kinds
    )
    rows = []
    for w in windows:
        inside = [e for e in results.errors if e["window"] == w.name]
        codes = Counter(e["code"] for e in inside)
        refused = sum(1 for r in results.refused if r["window"] == w.name)
        times = [e["at"] for e in inside]
        span = f"{min(times):.0f}–{max(times):.0f}" if times else "—"
        rows.append(
            f"| {w.name} | {w.start:.0f} | {w.back:.0f} | {w.end:.0f} | "
            f"{', '.join(f'{c} × {n}' for c, n in codes.most_common()) or '—'} | {span} | "
            f"{refused} |"
        )
    outside = [e for e in results.errors if not e["allowed"]]
    outside += [r | {"code": "refused"} for r in results.refused if not r["allowed"]]
    listed = (
        "\n".join(
            f"- {e['at']} s, {e.get('kind')}, {e['code']} (HTTP {e.get('http')}), "
            f"window: {e['window'] or 'none'}: {e.get('message', '')[:120]}"
            for e in outside[:20]
        )
        or "- none"
    )
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())  # 1, 5, 15 minutes, at the end
    promises = "\n".join(
        f"| {p} | {w} | {'kept' if ok else '**failed**'} |" for p, w, ok in results.rows
    )
    write_block(
        "soak",
        f"""## Soak: mixed load with faults (issue 18)

`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({spent / 60:.0f} min with setup and
drain): {args.seconds} s of load (after {args.warmup} s not counted) against two API
processes (`hub serve --workers 1` each, clients alternating between them), one worker
(`--concurrency 2`), beat, Neo4j and Redis, a {args.subjects:,}-subject seeded graph, five
partners each a webhook server of its own (three also polling `sanctionFeed`); everything on
one {os.cpu_count()}-core machine shared with other work (load average {load} at the end).
A refused connection (the killed API process) is retried on the other process and counted
apart; a connection lost mid-request is an error `transport:…`.

| requests | served | p50 ms | p99 ms | errors |
|---|---:|---:|---:|---:|
{served}
| all | {sum(results.served.values()):,} | | | {len(results.errors)} |

Refused connections (the killed API process; each request then went to the other process):
{len(results.refused)}. Times are seconds from the end of the warm-up.

| fault | at s | back s | window ends s | errors inside | errors from–to s | refused |
|---|---:|---:|---:|---|---|---:|
{chr(10).join(rows)}

Errors not as promised (outside every window, or not `UNAVAILABLE` with 503 and
`Retry-After`; at most 20 shown, all in `bench/out/soak.json`):

{listed}

| promise | what was seen | |
|---|---|---|
{promises}
""",
    )
