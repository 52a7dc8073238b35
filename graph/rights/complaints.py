"""Complaints and reports (投诉举报): filed by anyone, routed to the responsible unit, accepted or
refused, answered, and followed by the filer with a tracking number and a secret query code.

A report concerns a subject and goes to the unit of the subject's division; a complaint concerns
a unit and goes to its superior, so no unit handles a complaint about itself. The query code is
kept only as a salted scrypt hash; a lookup with a wrong code answers exactly like one with an
unknown tracking number, in about the same time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from neo4j import AsyncManagedTransaction
from neo4j.exceptions import ConstraintError

from graph.db import Store
from graph.rights.evidence import Evidence, attach
from policies.access import cypher_readable
from policies.rights import RightsRules
from policies.units import responsible_unit, superior, units_by_code

Kind = Literal["COMPLAINT", "REPORT"]
KINDS: tuple[Kind, ...] = ("COMPLAINT", "REPORT")
STATUSES = ("RECEIVED", "ACCEPTED", "REFUSED", "ANSWERED")
# Crockford-like: no 0/O, 1/I/L, so a number read out over the phone is typed back right.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
UNKNOWN_SUBJECT = "no published subject has this credit code"
_TRIES = 3  # new tracking numbers tried when one is taken (about one in 10^9 per day)


class ComplaintError(ValueError):
    """Why a filing or a step is refused; ``reason`` is stable, the message safe to show."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Filing:
    kind: Kind
    text: str
    credit_code: str | None = None  # a report: the subject it concerns
    about_unit: str | None = None  # a complaint: the unit it concerns
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the filer is told once: the query code is never stored in clear."""

    id: str
    tracking: str
    query_code: str
    unit: str
    due_on: date


def new_tracking(today: date) -> str:
    """``TS-YYYYMMDD-XXXXXX``: the day, then six random characters (31^6 per day)."""
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"TS-{today:%Y%m%d}-{tail}"


def new_query_code() -> str:
    """Twelve random characters (about 59 bits), grouped for reading: ``XXXX-XXXX-XXXX``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def query_hash(tracking: str, code: str) -> str:
    """The stored form of a query code: scrypt, salted with its tracking number, so a leaked
    database does not hand out codes and one hash cannot be tried against every complaint."""
    typed = code.strip().upper().replace("-", "").replace(" ", "")
    salt = tracking.strip().upper().encode()
    return hashlib.scrypt(typed.encode(), salt=salt, n=2**12, r=8, p=1, dklen=32).hex()


def route(filing: Filing, division: str | None) -> str:
    """The unit that handles a filing: a report goes to the subject's unit, a complaint to the
    superior of the unit it concerns (the region's stay at the region)."""
    if filing.kind == "REPORT":
        assert division is not None
        return responsible_unit(division)
    assert filing.about_unit is not None
    return superior(filing.about_unit)


SUBJECT_DIVISION = f"""
MATCH (s:Subject {{creditCode: $code}})
WHERE {cypher_readable("s", "s.division", "s.sourceAgency")}
RETURN s.division AS division
"""


async def reportable(store: Store, code: str, scope: dict[str, Any]) -> bool:
    """Whether a report may name this subject: one the scope (the public's) sees. Asked before
    any evidence is stored; the filing's own transaction asks again."""
    return bool(await store.read(SUBJECT_DIVISION, code=code, **scope))


CREATE = """
CREATE (c:Complaint {id: $id, tracking: $tracking, queryHash: $hash, kind: $kind,
  status: 'RECEIVED', unit: $unit, creditCode: $code, aboutUnit: $aboutUnit, text: $text,
  contact: $contact, filedOn: $today, acceptDue: $due, dueOn: $due, open: true,
  escalations: 0, escalatedTo: null, filedAt: datetime()})
CREATE (c)-[:STEP]->(:ComplaintStep {seq: 1, kind: 'FILED', on: $today, unit: $unit,
  at: datetime()})
RETURN elementId(c) AS element
"""


async def _file(
    tx: AsyncManagedTransaction,
    filing: Filing,
    files: list[Evidence],
    scope: dict[str, Any],
    today: date,
    due: date,
) -> Receipt:
    division = None
    if filing.kind == "REPORT":
        found = await (await tx.run(SUBJECT_DIVISION, code=filing.credit_code, **scope)).single()
        if found is None:
            raise ComplaintError("unknown-subject", UNKNOWN_SUBJECT)
        division = found["division"]
    unit = route(filing, division)
    tracking, code, made = new_tracking(today), new_query_code(), f"C-{uuid.uuid4().hex[:20]}"
    result = await tx.run(
        CREATE,
        id=made,
        tracking=tracking,
        hash=query_hash(tracking, code),
        kind=filing.kind,
        unit=unit,
        code=filing.credit_code,
        aboutUnit=filing.about_unit,
        text=filing.text.strip(),
        contact=filing.contact,
        today=today,
        due=due,
    )
    element = (await result.single(strict=True))["element"]
    await attach(tx, element, files)
    return Receipt(made, tracking, code, unit, due)


async def file_complaint(
    store: Store,
    rules: RightsRules,
    filing: Filing,
    files: list[Evidence],
    *,
    scope: dict[str, Any],
    today: date,
) -> Receipt:
    """Record a filing and its evidence in one transaction, before the filer gets an answer.

    ``scope`` is the filer's read scope (the public's for anyone anonymous): a report about a
    subject the filer may not see is refused exactly like one about an unknown code."""
    if filing.kind == "COMPLAINT" and filing.about_unit not in units_by_code():
        raise ComplaintError("unknown-unit", "choose one of the department's units")
    due = rules.complaint_accept.due(today)
    tries = 0
    while True:
        try:
            return await store.write(_file, filing, files, scope, today, due)
        except ConstraintError:  # a tracking number drawn twice (or two files merged at once)
            tries += 1
            if tries == _TRIES:
                raise


@dataclass(frozen=True, slots=True)
class Tracked:
    """What the filer reads with the query code: progress, deadlines, reasons or reply."""

    tracking: str
    kind: str
    status: str
    unit: str
    filed_on: date
    accept_due: date
    answer_due: date | None
    due_on: date
    reason: str | None
    reply: str | None
    decided_on: date | None
    answered_on: date | None
    escalations: int


TRACKED = """
MATCH (c:Complaint {tracking: $tracking})
RETURN c.queryHash AS hash, c.tracking AS tracking, c.kind AS kind, c.status AS status,
  c.unit AS unit, c.filedOn AS filedOn, c.acceptDue AS acceptDue, c.answerDue AS answerDue,
  c.dueOn AS dueOn, c.reason AS reason, c.reply AS reply, c.decidedOn AS decidedOn,
  c.answeredOn AS answeredOn, c.escalations AS escalations
"""
_DECOY = query_hash("TS-00000000-XXXXXX", "decoy")


def _day(value: Any) -> date | None:
    return value.to_native() if value is not None else None


async def tracked(store: Store, tracking: str, code: str) -> Tracked | None:
    """The filing when the tracking number and query code match, else None: the same answer,
    after the same hashing work, for an unknown number and a wrong code."""
    rows = await store.read(TRACKED, tracking=tracking.strip().upper()[:40])
    given = query_hash(tracking, code[:40])
    stored = rows[0]["hash"] if rows else _DECOY
    if not hmac.compare_digest(given, stored) or not rows:
        return None
    r = rows[0]
    return Tracked(
        r["tracking"],
        r["kind"],
        r["status"],
        r["unit"],
        r["filedOn"].to_native(),
        r["acceptDue"].to_native(),
        _day(r["answerDue"]),
        r["dueOn"].to_native(),
        r["reason"],
        r["reply"],
        _day(r["decidedOn"]),
        _day(r["answeredOn"]),
        r["escalations"],
    )
