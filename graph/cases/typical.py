"""Typical cases (典型失信案例): a unit proposes one of its closed, upheld cases, a second person
approves it for the portal or returns it, and a reviewer withdraws it; without personal data.

A ``TypicalCase`` is tied to its case (``TYPICAL_OF``) and carries the owning unit's code, so a
unit works on the typical cases of the units it covers (itself and those below it) and any
other reads like an unknown one. Its text is scanned for personal data when proposed and again
when approved (graph/cases/personal.py), against the names of the people tied to the subject
read in the same transaction. Publication and withdrawal each write a ``case.typical`` outbox
event in their transaction: the portal's cached pages move on at once (hub/portal/cache.py)
and the partner kinds that collect 双公示 records (the regional credit platform) hear of it.
The public reads a typical case only while it is PUBLISHED and its case still stands (closed
and upheld): a case later dismissed or overturned disappears from the portal by itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction, Record

from graph.cases.personal import personal_data
from graph.db import Store
from graph.exchange.outbox import NewEvent, emit

EVENT = "case.typical"
# Kinds of subject whose name is an organisation's; any other (an individual business, OTHER,
# none) may be a person's name, and the portal shows a placeholder instead.
ORGANISATIONS = frozenset({"COMPANY", "INSTITUTION", "RURAL_COLLECTIVE"})
INDIVIDUAL_CODE = "92"  # a credit code's registration class 9 (market) and kind 2: 个体工商户
PLACEHOLDERS = {"INDIVIDUAL_BUSINESS": "某个体工商户"}
PLACEHOLDER = "某经营主体"
# Lengths of the published text, in characters (what the portal's page is laid out for).
LENGTHS = {
    "title": (4, 100),
    "summary": (20, 2000),
    "legalBasis": (4, 500),
    "outcome": (4, 1000),
    "lesson": (0, 1000),
}
STATUSES = ("PROPOSED", "RETURNED", "PUBLISHED", "WITHDRAWN")

# The subject as the page names it, and the people it must not name.
_NAMING = """
MATCH (c:Case {id: $case})-[:CASE_OF]->(s:Subject)
OPTIONAL MATCH (p:Person)-->(s)
RETURN s.name AS name, s.kind AS kind, s.creditCode AS code,
  [n IN collect(DISTINCT p.name) WHERE n IS NOT NULL] AS people
"""
# The unit's own case, locked so that two proposals of it cannot both pass the check.
_CASE = """
MATCH (c:Case {id: $case, unit: $unit})
SET c.typicalLockedAt = $now
RETURN c.status AS status, c.outcome AS outcome, c.creditCode AS code,
  EXISTS { MATCH (c)<-[:TYPICAL_OF]-(t:TypicalCase) WHERE t.status IN ['PROPOSED', 'PUBLISHED'] }
    AS taken
"""
_PROPOSE = """
MATCH (c:Case {id: $case})
CREATE (t:TypicalCase {id: $id, case: $case, creditCode: c.creditCode, unit: c.unit,
  title: $title, summary: $summary, legalBasis: $legalBasis, outcome: $outcome, lesson: $lesson,
  status: 'PROPOSED', proposedBy: $by, proposedOn: $today, proposedAt: $now,
  disclosure: 'RESTRICTED'})
CREATE (t)-[:TYPICAL_OF]->(c)
"""
# A typical case of a unit the caller covers, locked for the step.
_LOCK = """
MATCH (t:TypicalCase {id: $id})-[:TYPICAL_OF]->(c:Case)
WHERE substring(t.unit, 3) STARTS WITH $unitPrefix
SET t.lockedAt = $now
RETURN t.status AS status, t.proposedBy AS proposer, t.case AS case, c.status AS caseStatus,
  c.outcome AS caseOutcome, t {.title, .summary, .legalBasis, .outcome, .lesson} AS text
"""
_APPROVE = """
MATCH (t:TypicalCase {id: $id})
SET t.status = 'PUBLISHED', t.publishedOn = $today, t.reviewedBy = $by, t.reviewedAt = $now,
    t.disclosure = 'PUBLIC'
"""
_RETURN = """
MATCH (t:TypicalCase {id: $id})
SET t.status = 'RETURNED', t.returnedReasons = $reasons, t.reviewedBy = $by, t.reviewedAt = $now
"""
_WITHDRAW = """
MATCH (t:TypicalCase {id: $id})
SET t.status = 'WITHDRAWN', t.withdrawnOn = $today, t.withdrawnBy = $by,
    t.withdrawnReasons = $reasons, t.disclosure = 'RESTRICTED'
"""
_VIEW = """
t {.id, .case, .creditCode, .unit, .title, .summary, .legalBasis, .outcome, .lesson, .status,
   .proposedBy, .reviewedBy, .returnedReasons, .withdrawnReasons,
   proposedOn: toString(t.proposedOn), publishedOn: toString(t.publishedOn),
   withdrawnOn: toString(t.withdrawnOn), matter: c.matter, subjectName: s.name,
   subjectKind: s.kind, division: s.division} AS t
"""
# One typical case of a unit the caller covers ("" for system work: every unit).
_ONE = (
    """
MATCH (t:TypicalCase {id: $id})-[:TYPICAL_OF]->(c:Case)-[:CASE_OF]->(s:Subject)
WHERE substring(t.unit, 3) STARTS WITH $unitPrefix
RETURN """
    + _VIEW
)
# A unit's list: the typical cases of the units it covers, newest proposal first.
UNIT_PAGE = (
    """
MATCH (t:TypicalCase) WHERE substring(t.unit, 3) STARTS WITH $unitPrefix
  AND ($status IS NULL OR t.status = $status)
  AND (t.proposedOn < $day OR (t.proposedOn = $day AND t.id < $key))
MATCH (t)-[:TYPICAL_OF]->(c:Case)-[:CASE_OF]->(s:Subject)
WITH t, c, s ORDER BY t.proposedOn DESC, t.id DESC LIMIT $limit
RETURN """
    + _VIEW
)
# What the public reads: published, on a case that still stands.
_STANDS = "t.status = 'PUBLISHED' AND c.status = 'CLOSED' AND c.outcome = 'UPHELD'"
PUBLISHED_PAGE = (
    """
MATCH (t:TypicalCase {status: 'PUBLISHED'})-[:TYPICAL_OF]->(c:Case)-[:CASE_OF]->(s:Subject)
WHERE """
    + _STANDS
    + """ AND (t.publishedOn < $day OR (t.publishedOn = $day AND t.id < $key))
WITH t, c, s ORDER BY t.publishedOn DESC, t.id DESC LIMIT $limit
RETURN """
    + _VIEW
)
PUBLISHED_ONE = (
    """
MATCH (t:TypicalCase {id: $id})-[:TYPICAL_OF]->(c:Case)-[:CASE_OF]->(s:Subject)
WHERE """
    + _STANDS
    + "\nRETURN "
    + _VIEW
)
# Keyset start: after every day and id, so the first page starts at the newest.
TOP = (date(9999, 12, 31), "~")


class TypicalRefused(Exception):
    """A typical-case step refused: ``code`` is the API's stable code, ``reason`` the detail,
    ``extra`` more extensions (the field and kind of personal data found, never the value)."""

    def __init__(self, code: str, reason: str, message: str, **extra: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.extra = extra


@dataclass(frozen=True, slots=True)
class Draft:
    """The text a unit proposes for publication."""

    title: str
    summary: str
    legal_basis: str
    outcome: str
    lesson: str | None = None

    def fields(self) -> dict[str, str]:
        return {
            "title": self.title.strip(),
            "summary": self.summary.strip(),
            "legalBasis": self.legal_basis.strip(),
            "outcome": self.outcome.strip(),
            "lesson": (self.lesson or "").strip(),
        }


def organisation(kind: str | None, code: str | None) -> bool:
    """Whether the subject's name is an organisation's, which the portal may show."""
    return kind in ORGANISATIONS and not (code or "").startswith(INDIVIDUAL_CODE)


def shown_name(name: str | None, kind: str | None, code: str | None) -> str:
    """The subject as a published typical case names it."""
    if organisation(kind, code):
        return name or PLACEHOLDER
    return PLACEHOLDERS.get(kind or "", PLACEHOLDER)


def new_id(today: date) -> str:
    return f"TC-{today.strftime('%Y%m%d')}-{secrets.token_hex(4).upper()}"


def _checked_lengths(text: dict[str, str]) -> None:
    for field, (low, high) in LENGTHS.items():
        if not low <= len(text[field]) <= high:
            raise TypicalRefused(
                "BAD_USER_INPUT", "length", f"{field} is {low}-{high} characters", field=field
            )


async def _check_personal(tx: AsyncManagedTransaction, case: str, text: dict[str, Any]) -> None:
    """Refuse text naming a person tied to the case's subject or carrying an ID, a mobile
    number or an e-mail address; the subject's own name too when it may be a person's."""
    row = await (await tx.run(_NAMING, case=case)).single(strict=True)
    names = list(row["people"])
    if not organisation(row["kind"], row["code"]) and row["name"]:
        names.append(row["name"])
    for field, value in text.items():
        if value and (kind := personal_data(str(value), names)):
            raise TypicalRefused(
                "BAD_USER_INPUT",
                "personal-data",
                f"{field} holds personal data ({kind}); a typical case is published without it",
                field=field,
                kind=kind,
            )


def _not_found(id: str) -> TypicalRefused:
    return TypicalRefused("NOT_FOUND", "unknown", f"no typical case {id} in your jurisdiction")


async def propose(
    store: Store, case: str, draft: Draft, *, unit: str, by: str, today: date, now: datetime
) -> str:
    """Propose the unit's own closed and upheld case as typical; PROPOSED until approved."""
    text = draft.fields()
    _checked_lengths(text)

    async def work(tx: AsyncManagedTransaction) -> str:
        row = await (await tx.run(_CASE, case=case, unit=unit, now=now)).single()
        if row is None:
            raise TypicalRefused("NOT_FOUND", "unknown", f"no case {case} of your unit")
        if row["status"] != "CLOSED" or row["outcome"] != "UPHELD":
            raise TypicalRefused(
                "CONFLICT", "not-upheld", "only a closed case whose outcome was upheld is typical"
            )
        if row["taken"]:
            raise TypicalRefused(
                "CONFLICT", "already", f"{case} is already proposed or published as typical"
            )
        await _check_personal(tx, case, text)
        typical = new_id(today)
        params: dict[str, Any] = {**text, "lesson": text["lesson"] or None}
        await tx.run(_PROPOSE, params, case=case, id=typical, by=by, today=today, now=now)
        return typical

    return await store.write(work)


async def _step(
    tx: AsyncManagedTransaction, id: str, unit_prefix: str, wanted: str, now: datetime
) -> Record:
    row = await (await tx.run(_LOCK, id=id, unitPrefix=unit_prefix, now=now)).single()
    if row is None:
        raise _not_found(id)
    if row["status"] != wanted:
        raise TypicalRefused("CONFLICT", "status", f"{id} is {row['status']}, not {wanted}")
    return row


async def _announce(tx: AsyncManagedTransaction, id: str, kinds: tuple[str, ...]) -> None:
    """``case.typical`` with the typical case as the public sees it (or saw it)."""
    row = await (await tx.run(_ONE, id=id, unitPrefix="")).single(strict=True)
    t = dict(row["t"])
    shown = organisation(t["subjectKind"], t["creditCode"])
    data = {
        "typicalCaseId": t["id"],
        "status": t["status"],
        "title": t["title"],
        "subjectName": shown_name(t["subjectName"], t["subjectKind"], t["creditCode"]),
        "creditCode": t["creditCode"] if shown else None,
        "matter": t["matter"],
        "summary": t["summary"],
        "legalBasis": t["legalBasis"],
        "outcome": t["outcome"],
        "lesson": t["lesson"],
        "publishedOn": t["publishedOn"],
        "withdrawnOn": t["withdrawnOn"],
    }
    await emit(tx, NewEvent(EVENT, t["creditCode"], None, "PUBLIC", kinds, data))


async def approve(
    store: Store, id: str, *, unit_prefix: str, by: str, kinds: tuple[str, ...], today: date,
    now: datetime,
) -> None:  # fmt: skip
    """Publish a proposal on the portal: by another person than its proposer, while its case
    still stands, and only if its text still names nobody tied to the subject."""

    async def work(tx: AsyncManagedTransaction) -> None:
        row = await _step(tx, id, unit_prefix, "PROPOSED", now)
        if row["proposer"] == by:
            raise TypicalRefused(
                "FORBIDDEN", "four-eyes", "the proposer of a typical case may not approve it"
            )
        if row["caseStatus"] != "CLOSED" or row["caseOutcome"] != "UPHELD":
            raise TypicalRefused("CONFLICT", "not-upheld", f"the case of {id} no longer stands")
        await _check_personal(tx, row["case"], dict(row["text"]))
        await tx.run(_APPROVE, id=id, today=today, by=by, now=now)
        await _announce(tx, id, kinds)

    await store.write(work)


async def send_back(
    store: Store, id: str, *, unit_prefix: str, by: str, reasons: str, now: datetime
) -> None:
    """Return a proposal to its unit with the reasons; the unit may propose the case again."""
    if len(reasons.strip()) < 4:
        raise TypicalRefused("BAD_USER_INPUT", "reasons", "say why it is returned")

    async def work(tx: AsyncManagedTransaction) -> None:
        await _step(tx, id, unit_prefix, "PROPOSED", now)
        await tx.run(_RETURN, id=id, reasons=reasons.strip(), by=by, now=now)

    await store.write(work)


async def withdraw(
    store: Store, id: str, *, unit_prefix: str, by: str, reasons: str, kinds: tuple[str, ...],
    today: date, now: datetime,
) -> None:  # fmt: skip
    """Take a published typical case off the portal, saying why."""
    if len(reasons.strip()) < 4:
        raise TypicalRefused("BAD_USER_INPUT", "reasons", "say why it is withdrawn")

    async def work(tx: AsyncManagedTransaction) -> None:
        await _step(tx, id, unit_prefix, "PUBLISHED", now)
        await tx.run(_WITHDRAW, id=id, today=today, by=by, reasons=reasons.strip())
        await _announce(tx, id, kinds)

    await store.write(work)


async def one(store: Store, id: str, unit_prefix: str) -> dict[str, Any] | None:
    """A typical case of a unit the caller covers, whatever its status."""
    rows = await store.read(_ONE, id=id, unitPrefix=unit_prefix)
    return dict(rows[0]["t"]) if rows else None


async def of_units(
    store: Store, unit_prefix: str, status: str | None, after: tuple[date, str], limit: int
) -> list[dict[str, Any]]:
    """The typical cases of the units the caller covers, newest proposal first."""
    day, key = after
    rows = await store.read(
        UNIT_PAGE, unitPrefix=unit_prefix, status=status, day=day, key=key, limit=limit
    )
    return [dict(r["t"]) for r in rows]


async def published(store: Store, after: tuple[date, str], limit: int) -> list[dict[str, Any]]:
    """Published typical cases whose case still stands, newest first."""
    day, key = after
    rows = await store.read(PUBLISHED_PAGE, day=day, key=key, limit=limit)
    return [dict(r["t"]) for r in rows]


async def published_one(store: Store, id: str) -> dict[str, Any] | None:
    """One published typical case, or None for an unknown, withdrawn or unpublished one."""
    rows = await store.read(PUBLISHED_ONE, id=id)
    return dict(rows[0]["t"]) if rows else None
