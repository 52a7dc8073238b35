"""Public credit commitments (信用承诺): a subject commits in public, a unit records the breach.

A commitment is published the moment it is made (PUBLIC, on the subject's page and in the API).
A breach is not a verdict the unit writes directly: it submits a dishonest record of catalogue
item ``COMMITMENT_BREACH`` through the normal submission and review (graph/records/
submissions.py), and the commitment turns BREACHED only when review publishes that record
(graph/records/review.py), so a breach nobody approved never shows.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.archive.row_fields import RowError
from graph.db import Store
from graph.records.submissions import parse_submission, submit
from policies.credit.catalogue import add_months
from policies.rights import RightsRules

KINDS = {"LICENCE_ON_COMMITMENT": "告知承诺", "REPAIR": "修复承诺", "GENERAL": "主动承诺"}
BREACH_ITEM = "COMMITMENT_BREACH"
BREACH_BASIS = "国办发〔2019〕35号：违背信用承诺的行为记入信用记录"

_MAKE = """
MATCH (s:Subject {creditCode: $code})
CREATE (c:Commitment {id: $id, creditCode: $code, kind: $kind, text: $text, madeOn: $today,
  validUntil: $until, licence: $licence, status: 'IN_FORCE', disclosure: 'PUBLIC',
  madeBy: $by, madeAt: $now})
CREATE (s)-[:COMMITTED]->(c)
RETURN c.id AS id
"""
OF_SUBJECT = """
MATCH (:Subject {creditCode: $code})-[:COMMITTED]->(c:Commitment)
RETURN c {.id, .kind, .text, .licence, .status, madeOn: toString(c.madeOn),
          validUntil: toString(c.validUntil), breachedOn: toString(c.breachedOn)} AS c
ORDER BY c.madeOn DESC, c.id DESC LIMIT $limit
"""
# The commitment of a subject in the unit's jurisdiction, locked; out of it reads like unknown.
_LOCK = """
MATCH (s:Subject)-[:COMMITTED]->(c:Commitment {id: $id}) WHERE s.division STARTS WITH $prefix
SET c.lockedAt = $now
RETURN c.status AS status, c.creditCode AS code, c.text AS text,
  EXISTS { MATCH (c)-[:BREACH]->(r:CreditRecord) WHERE r.status IN ['PENDING', 'RETURNED'] }
    AS pending
"""
_BREACH = """
MATCH (c:Commitment {id: $id}) MATCH (r:CreditRecord {id: $record})
MERGE (c)-[b:BREACH]->(r) ON CREATE SET b.by = $by, b.at = $now, b.reason = $reason
"""


class CommitmentRefused(Exception):
    def __init__(self, code: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Breach:
    commitment: str
    subject: str
    record: str  # the pending COMMITMENT_BREACH record, now in the review queue
    status: str


async def make(
    store: Store,
    rules: RightsRules,
    *,
    code: str,
    kind: str,
    text: str,
    valid_until: date | None,
    licence: str | None,
    by: str,
    today: date,
) -> str:
    """Publish a commitment of the subject ``code`` (its own, from its sign-in)."""
    if kind not in KINDS:
        raise CommitmentRefused("BAD_USER_INPUT", "kind", f"kind is one of {', '.join(KINDS)}")
    if why := rules.commitment_text.check(text):
        raise CommitmentRefused("BAD_USER_INPUT", "text", f"the commitment: {why}")
    longest = add_months(today, rules.commitment_max_months)
    until = valid_until or longest
    if not today < until <= longest:
        raise CommitmentRefused(
            "BAD_USER_INPUT", "valid-until", f"validUntil is after today and at most {longest}"
        )
    if licence is not None and not 1 <= len(licence.strip()) <= 100:
        raise CommitmentRefused("BAD_USER_INPUT", "licence", "licence is 1-100 characters")
    new_id = f"CM-{today.strftime('%Y%m%d')}-{secrets.token_hex(4).upper()}"
    made = await store.execute(
        _MAKE, code=code, id=new_id, kind=kind, text=text.strip(), today=today, until=until,
        licence=licence.strip() if licence else None, by=by, now=datetime.now(UTC),
    )  # fmt: skip
    if not made:  # a company the hub holds nothing about has no page to publish it on
        raise CommitmentRefused(
            "NOT_FOUND", "unknown-subject", "the hub holds no subject with your credit code"
        )
    return new_id


async def commitments_of(store: Store, code: str, limit: int = 50) -> list[dict[str, Any]]:
    """A subject's commitments, newest first: all PUBLIC."""
    rows = await store.execute(OF_SUBJECT, code=code, limit=limit, read=True)
    return [dict(r["c"]) for r in rows]


async def record_breach(
    store: Store,
    commitment: str,
    *,
    reason: str,
    decided_on: date,
    document: str,
    tier: str,
    agency: str,
    prefix: str,
    by: str,
    scope: Mapping[str, Any],
    today: date,
) -> Breach:
    """Submit the breach of a commitment as a dishonest record (PENDING, for review)."""
    if len(reason.strip()) < 4:
        raise CommitmentRefused("BAD_USER_INPUT", "reason", "say what the breach was")
    now = datetime.now(UTC)

    async def work(tx: AsyncManagedTransaction) -> Breach:
        row = await (await tx.run(_LOCK, id=commitment, prefix=prefix, now=now)).single()
        if row is None:
            raise CommitmentRefused(
                "NOT_FOUND", "unknown-commitment", f"no commitment {commitment}"
            )
        if row["status"] != "IN_FORCE" or row["pending"]:
            raise CommitmentRefused(
                "CONFLICT", "not-open", f"{commitment} is {row['status']} or has a breach in review"
            )
        raw = {
            "item": BREACH_ITEM, "subject": row["code"], "tier": tier,
            "title": f"违反信用承诺（{commitment}）：{reason.strip()}"[:500],
            "decidedOn": decided_on.isoformat(), "document": document, "legalBasis": BREACH_BASIS,
        }  # fmt: skip
        try:
            submission = parse_submission(raw, today)
        except RowError as exc:
            raise CommitmentRefused("BAD_USER_INPUT", exc.reason, str(exc)) from None
        (outcome,) = await submit(
            tx, [submission.params(1)], agency=agency, prefix=prefix, by=by, now=now, scope=scope
        )
        if outcome.refused:
            raise CommitmentRefused("CONFLICT", outcome.outcome, outcome.message)
        await tx.run(_BREACH, id=commitment, record=outcome.id, by=by, now=now, reason=reason)
        return Breach(commitment, row["code"], outcome.id, str(outcome.status))

    return await store.write(work)
