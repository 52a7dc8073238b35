"""Objections (异议) filed by a subject against its own published record or active listing, and
the reads of them: the subject's own, and a unit's queue with what is overdue.

An ``Objection`` node carries the properties every filing node shares (``id``, ``status``,
``unit``: the responsible unit, ``creditCode``, ``filedOn``, ``dueOn``: the current step's
deadline, ``open``) and points at its target (``AGAINST``). Filing locks the target, so two
filings at once cannot both find it free: one open objection per target at a time.
Statuses: FILED (acceptance due), ACCEPTED (decision due), IN_REVIEW (a correction or withdrawal
decided, waiting for the reviewers), DECIDED and REFUSED (both closed).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.rights.evidence import Evidence, attach
from graph.rights.objected import Target, tell_in
from policies.credit.determination import StepRefused
from policies.credit.measures import Catalogue
from policies.rights import RightsRules

# The target, only when it is about the filing subject and published (a record) or active (a
# listing): anything else reads as unknown. Locked for the rest of the transaction.
_RECORD = """
MATCH (s:Subject {creditCode: $code})-[:HAS_RECORD]->(t:CreditRecord {id: $id})
WHERE t.status = 'PUBLISHED'
SET t.lockedAt = $now
RETURN elementId(t) AS element, t.sourceAgency AS unit, t.disclosure AS disclosure,
  EXISTS { MATCH (:Objection {open: true})-[:AGAINST]->(t) } AS busy
"""
_LISTING = """
MATCH (t:Sanction {id: $id})-[:SANCTIONED]->(s:Subject {creditCode: $code})
WHERE t.status = 'ACTIVE'
SET t.lockedAt = $now
RETURN elementId(t) AS element, t.authority AS unit, t.disclosure AS disclosure,
  EXISTS { MATCH (:Objection {open: true})-[:AGAINST]->(t) } AS busy
"""
_FILE = """
MATCH (t) WHERE elementId(t) = $target
CREATE (o:Objection {id: $oid, status: 'FILED', open: true, unit: $unit, creditCode: $code,
  filedOn: $today, dueOn: $due, target: $kind, targetId: $id, reasons: $reasons,
  filedBy: $by, filedAt: $now})
CREATE (o)-[:AGAINST]->(t)
RETURN elementId(o) AS element
"""
# What the API and the portal show of an objection.
FIELDS = """o {.id, .status, .open, .unit, .creditCode, .target, .targetId, .reasons, .outcome,
  .reply, .change, filedOn: toString(o.filedOn), dueOn: toString(o.dueOn),
  acceptedOn: toString(o.acceptedOn), decidedOn: toString(o.decidedOn),
  closedOn: toString(o.closedOn),
  subjectName: COLLECT { MATCH (s:Subject {creditCode: o.creditCode}) RETURN s.name }[0],
  evidence: COLLECT { MATCH (o)-[a:ATTACHES]->(e:Evidence)
                      RETURN e {.id, .type, .size, name: a.name} ORDER BY a.name, e.id }}"""
_MINE = f"""
MATCH (o:Objection {{creditCode: $code}}) WHERE $after = '' OR o.id < $after
RETURN {FIELDS} AS o ORDER BY o.id DESC LIMIT $limit
"""
# A unit's queue: objections its own unit or a unit below it answers for, oldest first.
_QUEUE = f"""
MATCH (o:Objection) WHERE substring(o.unit, 3) STARTS WITH $unitPrefix
  AND ($status IS NULL OR o.status = $status)
  AND (NOT $overdue OR (o.open AND o.dueOn < $today))
  AND o.id > $after
RETURN {FIELDS} AS o ORDER BY o.id LIMIT $limit
"""


class ObjectionRefused(StepRefused):
    """A filing or step on an objection refused: ``code`` for the API, ``reason`` a stable word,
    like a listing case's steps."""


@dataclass(frozen=True, slots=True)
class Filing:
    code: str  # the subject's own credit code (from its sign-in, never from an argument)
    kind: str  # RECORD or LISTING
    target: str  # the record's or the listing's id
    reasons: str
    by: str  # who filed (the token's or the sign-in's ``sub``)
    files: tuple[Evidence, ...] = ()


def check_reasons(rules: RightsRules, text: str) -> str:
    """The reasons, whitespace tidied, or :class:`ObjectionRefused` saying what is wrong."""
    tidy = " ".join(text.split())
    if problem := rules.objection_reasons.check(tidy):
        raise ObjectionRefused("BAD_USER_INPUT", "reasons", f"reasons: {problem}")
    return tidy


def new_id(today: date) -> str:
    return f"OB-{today.strftime('%Y%m%d')}-{secrets.token_hex(4).upper()}"


async def file_objection(
    store: Store, catalogue: Catalogue, rules: RightsRules, filing: Filing, today: date
) -> dict[str, Any]:
    """File the objection and tell partners the target is under objection, in one
    transaction; the objection as :data:`FIELDS` reads it."""
    reasons = check_reasons(rules, filing.reasons)
    if filing.kind not in ("RECORD", "LISTING"):
        raise ObjectionRefused("BAD_USER_INPUT", "target", "object to a record or a listing")

    async def work(tx: AsyncManagedTransaction) -> str:
        now = datetime.now(UTC)
        query = _RECORD if filing.kind == "RECORD" else _LISTING
        found = await (await tx.run(query, code=filing.code, id=filing.target, now=now)).single()
        if found is None:  # another subject's, unpublished or unknown: one answer for all
            what = "record" if filing.kind == "RECORD" else "listing"
            raise ObjectionRefused("NOT_FOUND", "unknown-target", f"no {what} {filing.target}")
        if found["busy"]:
            raise ObjectionRefused(
                "CONFLICT", "open-objection", "an objection to it is still being handled"
            )
        oid = new_id(today)
        result = await tx.run(
            _FILE, target=found["element"], oid=oid, unit=found["unit"], code=filing.code,
            today=today, due=rules.objection_accept.due(today), kind=filing.kind,
            id=filing.target, reasons=reasons, by=filing.by, now=now,
        )  # fmt: skip
        created = await result.single(strict=True)
        await attach(tx, created["element"], list(filing.files))
        target = Target(filing.kind, filing.target, filing.code, found["disclosure"] or "PUBLIC")
        await tell_in(tx, catalogue, target, oid, True)
        return oid

    oid = await store.write(work)
    found = await store.read(f"MATCH (o:Objection {{id: $id}}) RETURN {FIELDS} AS o", id=oid)
    return dict(found[0]["o"])


async def mine(store: Store, code: str, after: str, limit: int) -> list[dict[str, Any]]:
    """A subject's objections, newest first (``after``: the last id of the previous page)."""
    rows = await store.read(_MINE, code=code, after=after, limit=limit)
    return [dict(r["o"]) for r in rows]


async def queue(
    store: Store,
    *,
    prefix: str,
    status: str | None,
    overdue: bool,
    today: date,
    after: str,
    limit: int,
) -> list[dict[str, Any]]:
    """The objections a unit answers for (its jurisdiction's ``prefix``), oldest first; with
    ``overdue``, only open ones whose current step's deadline passed before ``today``."""
    rows = await store.read(
        _QUEUE, unitPrefix=prefix, status=status, overdue=overdue, today=today, after=after,
        limit=limit,
    )  # fmt: skip
    return [dict(r["o"]) for r in rows]
