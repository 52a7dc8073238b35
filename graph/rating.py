"""Ratings in the graph: read a subject's inputs, rate them with the model, store the result.

The model (policies/credit/rating.py) is pure; this module only gathers what it reads (published
records in force, active listings, licences, projects) and stores what it says, with the model
version, the inputs, each indicator's contribution and the consequences with their names, so a
grade can be explained and reproduced.

A case (graph/cases/) counts once, by its final outcome: the records no case concerns count each
as they are; the records of one case count as one fact, the one decided last (the final word so
far: a judgment after the penalty), and not at all once the case closed with an outcome that does
not count (policies/cases.yaml ``outcomes``). One ``Rating`` per subject (``RT-<code>``) holds the
current result and the grade history (JSON: grade, effectiveFrom, modelVersion; a new entry only
when the grade changes); the subject carries grade and score too, so filters need no traversal.

When a re-rating changes consequences that partners act on (bidding priority, restriction,
disqualification), a ``rating.changed`` event goes into the outbox in the same transaction, to
the partner kinds whose duties changed (policies/rating.yaml ``partners``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.certificates import REVOKE_DROPPED, better_than
from graph.db import Store
from graph.exchange.outbox import NewEvent, emit
from policies.cases import default_cases
from policies.credit.rating import (
    STATUSES,
    GradeChange,
    RatingInputs,
    RatingModel,
    RatingResult,
    RecordFact,
    Source,
    advance,
)
from policies.credit.rating_file import default_model

EVENT = "rating.changed"

INPUTS = """
UNWIND $codes AS code
MATCH (s:Subject {creditCode: code})
WITH s, COLLECT { MATCH (c:Case {creditCode: code}) RETURN c } AS cases
WITH s, cases,
  COLLECT { UNWIND cases AS c MATCH (c)-[:CONCERNS]->(r:CreditRecord) RETURN DISTINCT r }
    AS concerned
RETURN s.creditCode AS code, s.name AS name, s.status AS status,
  toString(s.registeredOn) AS registeredOn,
  COLLECT {
    MATCH (rt:Rating)-[:RATED]->(s)
    RETURN rt {.grade, .history, .modelVersion, .measures, computedAt: toString(rt.computedAt)}
    ORDER BY rt.computedAt DESC LIMIT 1
  }[0] AS previous,
  COLLECT {
    MATCH (s)-[:HAS_RECORD]->(r:CreditRecord)
    WHERE r.status = 'PUBLISHED' AND (r.publishUntil IS NULL OR r.publishUntil >= $today)
      AND NOT r IN concerned
    RETURN [r.item, r.category, r.tier, toString(r.decidedOn), r.disclosure, r.sourceAgency]
  } + COLLECT {
    UNWIND cases AS c
    WITH c WHERE NOT (c.status = 'CLOSED' AND c.outcome IN $uncounted)
    WITH COLLECT {
      MATCH (c)-[:CONCERNS]->(r:CreditRecord)
      WHERE r.status = 'PUBLISHED' AND (r.publishUntil IS NULL OR r.publishUntil >= $today)
      RETURN [r.item, r.category, r.tier, toString(r.decidedOn), r.disclosure, r.sourceAgency]
      ORDER BY r.decidedOn DESC, r.id DESC LIMIT 1
    } AS final
    WHERE final <> []
    RETURN final[0]
  } AS records,
  COLLECT {
    MATCH (x:Sanction)-[:SANCTIONED]->(s)
    WHERE x.status = 'ACTIVE' AND (x.endDate IS NULL OR x.endDate >= $today)
    RETURN DISTINCT x.listing
  } AS listings,
  COLLECT {
    MATCH (s)-[:HOLDS]->(l:Licence) WHERE l.validUntil IS NULL OR l.validUntil >= $today
    RETURN [l.disclosure, l.sourceAgency]
  } AS licences,
  COLLECT { MATCH (s)-[:PARTICIPATES_IN]->(p:Project) RETURN [p.disclosure, p.sourceAgency] }
    AS projects
"""

# A grade that falls below a certificate's revokes it in the same write (graph/certificates.py).
WRITE = f"""
UNWIND $ratings AS row
MATCH (s:Subject {{creditCode: row.subject}})
MERGE (rt:Rating {{id: 'RT-' + row.subject}})
ON CREATE SET rt.firstSeen = $now
MERGE (rt)-[:RATED]->(s)
SET rt += row.props, rt.lastSeen = $now,
    s.grade = row.props.grade, s.score = row.props.score, s.ratedAt = row.props.computedAt
WITH row
{REVOKE_DROPPED}
"""

# Keyset pages over every subject, for `hub rate --all`.
PAGE = """
MATCH (s:Subject) WHERE s.creditCode > $after
RETURN s.creditCode AS code ORDER BY code LIMIT $limit
"""


def uncounted() -> list[str]:
    """INPUTS' ``$uncounted``: the outcomes after which a closed case no longer counts."""
    return [name for name, outcome in default_cases().outcomes.items() if not outcome.counts]


def _inputs(record: Any) -> RatingInputs:
    return RatingInputs(
        status=record["status"],
        registered_on=date.fromisoformat(record["registeredOn"])
        if record["registeredOn"]
        else None,
        records=tuple(
            RecordFact(item, category, tier, date.fromisoformat(decided), _source(cls, owner))
            for item, category, tier, decided, cls, owner in record["records"]
            if decided
        ),
        listings=tuple(sorted(record["listings"])),
        licences=tuple(_source(cls, owner) for cls, owner in record["licences"]),
        projects=tuple(_source(cls, owner) for cls, owner in record["projects"]),
    )


def _source(disclosure: str | None, owner: str | None) -> Source:
    """A row without a class is treated as the highest one: deny by default."""
    return Source(disclosure or "CONFIDENTIAL", owner)


def history_of(rating: dict[str, Any] | None) -> tuple[GradeChange, ...]:
    """A stored rating's grade history; a rating stored without one (imported, seeded, or
    older than the history) counts as one entry from the day it was computed."""
    if not rating:
        return ()
    if rating.get("history"):
        return tuple(GradeChange.from_dict(h) for h in json.loads(rating["history"]))
    computed = rating.get("computedAt")
    since = date.fromisoformat(computed[:10]) if computed else date.min
    return (GradeChange(rating["grade"], since, rating.get("modelVersion") or "unknown"),)


def _props(
    result: RatingResult, inputs: RatingInputs, history: tuple[GradeChange, ...], now: datetime
) -> dict[str, Any]:
    return {
        "score": result.score,
        "grade": result.grade,
        "uncappedGrade": result.uncapped_grade,
        "caps": list(result.caps),
        "modelVersion": result.model_version,
        "computedAt": now,
        "measures": result.consequence_codes(),  # the consequences' codes, for filters
        "consequences": json.dumps([c.as_dict() for c in result.consequences], ensure_ascii=False),
        "history": json.dumps([h.as_dict() for h in history], ensure_ascii=False),
        "inputs": json.dumps(inputs.as_dict(), ensure_ascii=False, sort_keys=True),
        "contributions": json.dumps([asdict(c) for c in result.contributions], ensure_ascii=False),
    }


def _changed(
    code: str,
    name: str,
    before: dict[str, Any],
    result: RatingResult,
    history: tuple[GradeChange, ...],
    kinds: tuple[str, ...],
) -> NewEvent:
    """The grade changed what partners of ``kinds`` must do. The grade is public, so is the
    event; its ``data`` names the new consequences partners act on."""
    return NewEvent(
        EVENT,
        code,
        "RT-" + code,
        "PUBLIC",
        kinds,
        {
            "ratingId": "RT-" + code,
            "creditCode": code,
            "name": name,
            "grade": result.grade,
            "previousGrade": before["grade"],
            "effectiveFrom": history[-1].effective_from.isoformat(),
            "modelVersion": result.model_version,
            "consequences": [c.as_dict() for c in result.consequences],
        },
    )


async def rate_in(
    tx: AsyncManagedTransaction,
    codes: Sequence[str],
    today: date,
    model: RatingModel | None = None,
    *,
    notify: bool = True,
) -> dict[str, RatingResult]:
    """Recompute and store the ratings of ``codes`` inside the caller's transaction, so a
    publication, the grade it changes and the partners' ``rating.changed`` event commit
    together. A first rating tells nobody (there was no grade to change); ``notify=False``
    tells nobody either (a demo seed's ratings replaced)."""
    model = model or default_model()
    now = datetime.now(UTC)
    result = await tx.run(INPUTS, codes=list(codes), today=today, uncounted=uncounted())
    rated: dict[str, RatingResult] = {}
    rows, events = [], []
    async for record in result:
        if record["status"] not in STATUSES:
            continue  # a subject registered without a status cannot be rated; rate_all says so
        inputs = _inputs(record)
        rating = model.rate(inputs, today)
        before = record["previous"]
        history = advance(history_of(before), rating.grade, rating.model_version, today)
        rated[record["code"]] = rating
        rows.append(
            {
                "subject": record["code"],
                "props": _props(rating, inputs, history, now),
                "better": better_than(rating.grade),
            }
        )
        if notify and before is not None:
            kinds = model.partners_to_tell(before.get("measures") or [], rating.consequence_codes())
            if kinds:
                events.append(
                    _changed(record["code"], record["name"], before, rating, history, kinds)
                )
    if rows:
        await tx.run(WRITE, ratings=rows, now=now)
    for event in events:
        await emit(tx, event)
    return rated


async def rate(
    store: Store,
    codes: Sequence[str],
    today: date | None = None,
    *,
    notify: bool = True,
) -> dict[str, RatingResult]:
    async def work(tx: AsyncManagedTransaction) -> dict[str, RatingResult]:
        return await rate_in(tx, codes, today or date.today(), notify=notify)

    return await store.write(work)


async def rate_all(
    store: Store,
    *,
    batch_size: int = 2000,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
    notify: bool = True,
) -> tuple[int, int]:
    """Every subject, in keyset pages of ``batch_size``, each rated in one transaction.
    Returns how many were rated and how many could not be (no status)."""
    today = today or date.today()
    done, rated, after = 0, 0, ""
    while True:
        records = await store.execute(PAGE, after=after, limit=batch_size, read=True)
        codes = [r["code"] for r in records]
        if not codes:
            return rated, done - rated
        rated += len(await rate(store, codes, today, notify=notify))
        done += len(codes)
        after = codes[-1]
        if progress is not None:
            progress(done)
