"""Credit repair applications (信用修复申请): a subject applies, from the end of the minimum
publication period and with the proof the rules require, to end a listing or a dishonest record.

The application is a ``RepairApplication`` node with the properties every filing has (``id``,
``status``, ``unit``, ``creditCode``, ``filedOn``, ``dueOn``, ``open``), routed to the unit that
listed or recorded it ("whoever listed it repairs it"). The target is locked while applying, so
two applications for one target never both stay open. Deciding is graph/rights/repair_decisions.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.rights.evidence import Evidence, attach
from policies.credit.catalogue import add_months
from policies.credit.determination import DeterminationRules
from policies.rights import RightsRules

PROOF_NAMES = {
    "FULFILMENT": "履行义务证明",
    "COMMITMENT": "信用修复承诺书",
    "TRAINING": "信用修复培训证明",
}

# A listing of the subject's own (the case that decided it, when there is one), locked.
_SANCTION = """
MATCH (n:Sanction {id: $target})-[:SANCTIONED]->(:Subject {creditCode: $code})
SET n.lockedAt = $now
WITH n
OPTIONAL MATCH (c:ListingCase {id: 'LC-' + substring(n.id, 2)})
RETURN elementId(n) AS element, n.status = 'ACTIVE' AS inForce, n.listing AS kind,
  n.authority AS unit, n.startDate AS start, c.repairableFrom AS repairableFrom
"""
# A record of the subject's own, locked; only a published dishonest one has a repair date.
_RECORD = """
MATCH (:Subject {creditCode: $code})-[:HAS_RECORD]->(r:CreditRecord {id: $target})
SET r.lockedAt = $now
RETURN elementId(r) AS element, r.status = 'PUBLISHED' AS inForce,
  CASE WHEN r.category = 'DISHONEST' AND r.repairableFrom IS NOT NULL THEN 'RECORD' END AS kind,
  r.sourceAgency AS unit, null AS start, r.repairableFrom AS repairableFrom
"""
_CREATE = """
MATCH (s:Subject {creditCode: $code}) MATCH (t) WHERE elementId(t) = $element
WITH s, t WHERE NOT EXISTS { MATCH (x:RepairApplication {target: $target}) WHERE x.open }
CREATE (a:RepairApplication {id: $id, status: 'FILED', unit: $unit, creditCode: $code,
  filedOn: $today, dueOn: $dueOn, open: true, target: $target, targetKind: $kind,
  statement: $statement, proofKinds: $proofKinds, proofTexts: $proofTexts, fee: 0,
  opensOn: $opensOn, filedBy: $by, filedAt: $now})
CREATE (a)-[:CONCERNS]->(s)
CREATE (a)-[:TARGETS]->(t)
RETURN elementId(a) AS element
"""
# What a subject's own list and a unit's queue show of an application.
VIEW = """a {.id, .status, .unit, .creditCode, .open, .target, .targetKind, .statement,
  .proofKinds, .fee, .reason, .decidedBy, filedOn: toString(a.filedOn),
  dueOn: toString(a.dueOn), opensOn: toString(a.opensOn), acceptedOn: toString(a.acceptedOn),
  decidedOn: toString(a.decidedOn),
  evidence: COLLECT { MATCH (a)-[x:ATTACHES]->(e:Evidence) RETURN x.name ORDER BY x.name }}"""
_ONE = f"MATCH (a:RepairApplication {{id: $id}}) RETURN {VIEW} AS a"
_OWN = f"""
MATCH (a:RepairApplication {{creditCode: $code}})
RETURN {VIEW} AS a ORDER BY a.filedOn DESC, a.id DESC LIMIT $limit
"""


class RepairRefused(Exception):
    """The application or step is not allowed; ``code`` is the API's error code, ``reason``
    stable, ``extra`` more facts for the caller (the date repair opens, the proofs missing)."""

    def __init__(self, code: str, reason: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.extra = extra


@dataclass(frozen=True, slots=True)
class Proof:
    kind: str  # FULFILMENT, COMMITMENT or TRAINING
    text: str  # what it is (a receipt number, the commitment's words); may be empty with files
    files: tuple[Evidence, ...] = ()

    @property
    def given(self) -> bool:
        return bool(self.text.strip() or self.files)


@dataclass(frozen=True, slots=True)
class Application:
    code: str  # the subject's own credit code, from its sign-in, never from an argument
    target: str  # a Sanction id or a CreditRecord id
    is_sanction: bool
    statement: str
    proofs: tuple[Proof, ...]


def _day(value: Any) -> date | None:
    native = value.to_native() if hasattr(value, "to_native") else value
    return native if isinstance(native, date) else None


def opens_on(row: dict[str, Any], rules: DeterminationRules) -> date | None:
    """The first day repair may be applied for: the case's or record's date, else the
    listing's start plus its publication minimum (policies/determination.yaml)."""
    day = _day(row["repairableFrom"])
    start = _day(row["start"])
    if day is None and start is not None and row["kind"] in rules.publication:
        day = add_months(start, rules.publication[row["kind"]].min_months)
    return day


def check_proofs(rules: RightsRules, kind: str, proofs: tuple[Proof, ...]) -> None:
    """Every proof the rules require for ``kind`` is given (text or a file)."""
    given = {p.kind for p in proofs if p.given}
    missing = sorted(rules.repair_proofs[kind] - given)
    if missing:
        names = "、".join(f"{m}（{PROOF_NAMES[m]}）" for m in missing)
        raise RepairRefused(
            "BAD_USER_INPUT", "missing-proof", f"proof missing: {names}", missing=missing
        )


async def _target(tx: AsyncManagedTransaction, app: Application, now: datetime) -> dict[str, Any]:
    query = _SANCTION if app.is_sanction else _RECORD
    row = await (await tx.run(query, target=app.target, code=app.code, now=now)).single()
    if row is None:  # another subject's reads like an unknown one
        raise RepairRefused("NOT_FOUND", "unknown-target", f"no listing or record {app.target}")
    return dict(row)


async def apply(
    store: Store,
    rules: RightsRules,
    determination: DeterminationRules,
    app: Application,
    *,
    by: str,
    today: date,
    now: datetime,
) -> str:
    """File an application; the new id, or :class:`RepairRefused` naming why not."""
    if why := rules.repair_statement.check(app.statement):
        raise RepairRefused("BAD_USER_INPUT", "statement", f"the statement: {why}")

    async def work(tx: AsyncManagedTransaction) -> str:
        row = await _target(tx, app, now)
        kind = row["kind"]
        if kind not in rules.repair_proofs:
            raise RepairRefused(
                "BAD_USER_INPUT", "not-repairable", "only dishonest records and listings of the "
                "department are repaired here; others by the authority that decided them",
            )  # fmt: skip
        if not row["inForce"]:
            raise RepairRefused("CONFLICT", "not-in-force", f"{app.target} is no longer in force")
        start = opens_on(row, determination)
        if start is None or today < start:
            raise RepairRefused(
                "CONFLICT", "too-early",
                f"repair may be applied for from {start}, the end of the minimum period",
                opensOn=start.isoformat() if start else None,
            )  # fmt: skip
        check_proofs(rules, kind, app.proofs)
        new_id = f"RA-{today.strftime('%Y%m%d')}-{secrets.token_hex(4).upper()}"
        created = await tx.run(
            _CREATE, code=app.code, element=row["element"], target=app.target, id=new_id,
            unit=row["unit"], today=today, dueOn=rules.repair_accept.due(today), kind=kind,
            statement=app.statement.strip(), proofKinds=[p.kind for p in app.proofs],
            proofTexts=[p.text.strip() for p in app.proofs], opensOn=start, by=by, now=now,
        )  # fmt: skip
        found = await created.single()
        if found is None:
            raise RepairRefused(
                "CONFLICT", "already-open", f"an application for {app.target} is open already"
            )
        await attach(tx, found["element"], [f for p in app.proofs for f in p.files])
        return new_id

    return await store.write(work)


async def own_applications(store: Store, code: str, limit: int = 100) -> list[dict[str, Any]]:
    """A subject's own applications, newest first (its code from its sign-in)."""
    rows = await store.execute(_OWN, code=code, limit=limit, read=True)
    return [dict(r["a"]) for r in rows]


async def find_application(store: Store, app_id: str) -> dict[str, Any] | None:
    """One application as it stands (after a step the caller was allowed to take)."""
    rows = await store.execute(_ONE, id=app_id, read=True)
    return dict(rows[0]["a"]) if rows else None
