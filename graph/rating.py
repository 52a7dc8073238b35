"""Ratings in the graph: read a subject's inputs, rate them with the model, store the result.

The model (policies/rating.py) is pure; this module only gathers what it reads (published
records in force, active listings, licences, projects) and stores what it says, with the model
version, the inputs and each indicator's contribution, so a grade can be explained and
reproduced. One ``Rating`` per subject (``RT-<code>``) holds the current result; the subject
carries grade and score too, so filters need no traversal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncDriver, AsyncManagedTransaction

from policies.rating import (
    STATUSES,
    RatingInputs,
    RatingModel,
    RatingResult,
    RecordFact,
    Source,
    default_model,
)

INPUTS = """
UNWIND $codes AS code
MATCH (s:Subject {creditCode: code})
RETURN s.creditCode AS code, s.status AS status, toString(s.registeredOn) AS registeredOn,
  COLLECT {
    MATCH (s)-[:HAS_RECORD]->(r:CreditRecord)
    WHERE r.status = 'PUBLISHED' AND (r.publishUntil IS NULL OR r.publishUntil >= $today)
    RETURN [r.item, r.category, r.tier, toString(r.decidedOn), r.disclosure, r.sourceAgency]
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

WRITE = """
UNWIND $ratings AS row
MATCH (s:Subject {creditCode: row.subject})
MERGE (rt:Rating {id: 'RT-' + row.subject})
ON CREATE SET rt.firstSeen = $now
MERGE (rt)-[:RATED]->(s)
SET rt += row.props, rt.lastSeen = $now,
    s.grade = row.props.grade, s.score = row.props.score, s.ratedAt = row.props.computedAt
"""

# Keyset pages over every subject, for `hub rate --all`.
PAGE = """
MATCH (s:Subject) WHERE s.creditCode > $after
RETURN s.creditCode AS code ORDER BY code LIMIT $limit
"""


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


def _props(result: RatingResult, inputs: RatingInputs, now: datetime) -> dict[str, Any]:
    return {
        "score": result.score,
        "grade": result.grade,
        "uncappedGrade": result.uncapped_grade,
        "caps": list(result.caps),
        "modelVersion": result.model_version,
        "computedAt": now,
        "measures": result.measures(),
        "inputs": json.dumps(inputs.as_dict(), ensure_ascii=False, sort_keys=True),
        "contributions": json.dumps([asdict(c) for c in result.contributions], ensure_ascii=False),
    }


async def rate_in(
    tx: AsyncManagedTransaction,
    codes: Sequence[str],
    today: date,
    model: RatingModel | None = None,
) -> dict[str, RatingResult]:
    """Recompute and store the ratings of ``codes`` inside the caller's transaction, so a
    publication and the grade it changes commit together."""
    model = model or default_model()
    now = datetime.now(UTC)
    result = await tx.run(INPUTS, codes=list(codes), today=today)
    rated: dict[str, RatingResult] = {}
    rows = []
    async for record in result:
        if record["status"] not in STATUSES:
            continue  # a subject registered without a status cannot be rated; rate_all says so
        inputs = _inputs(record)
        rating = model.rate(inputs, today)
        rated[record["code"]] = rating
        rows.append({"subject": record["code"], "props": _props(rating, inputs, now)})
    if rows:
        await tx.run(WRITE, ratings=rows, now=now)
    return rated


async def rate(
    driver: AsyncDriver, database: str, codes: Sequence[str], today: date | None = None
) -> dict[str, RatingResult]:
    async with driver.session(database=database) as session:
        return await session.execute_write(rate_in, codes, today or date.today())


async def rate_all(
    driver: AsyncDriver,
    database: str,
    *,
    batch_size: int = 2000,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Every subject, in keyset pages of ``batch_size``, each rated in one transaction.
    Returns how many were rated and how many could not be (no status)."""
    today = today or date.today()
    done, rated, after = 0, 0, ""
    while True:
        records, _, _ = await driver.execute_query(
            PAGE, after=after, limit=batch_size, database_=database, routing_="r"
        )
        codes = [r["code"] for r in records]
        if not codes:
            return rated, done - rated
        rated += len(await rate(driver, database, codes, today))
        done += len(codes)
        after = codes[-1]
        if progress is not None:
            progress(done)
