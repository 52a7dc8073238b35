"""Credit certificates in the graph: issued to A-class subjects, revoked in the transaction that
lists the subject or lowers its grade, and read back live when a QR code is scanned.

A ``Certificate`` node states the grade at issue and its last valid day; its ``status`` is
``VALID`` until a listing or a grade drop makes it ``REVOKED`` (with the day and the reason). A
revoked certificate stays revoked when the listing ends: the subject obtains a new one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from policies.access import cypher_readable
from policies.credit.certificates import CertificateRules
from policies.credit.rating import GRADES

# What an issue decides on, of a subject in the unit's jurisdiction that the unit may read (the
# read rule, policies/access.py): otherwise the answer is "not found", never its name or grade.
STANDING = f"""
MATCH (s:Subject {{creditCode: $code}})
WHERE s.division STARTS WITH $unitPrefix AND {cypher_readable("s", "s.division", "s.sourceAgency")}
RETURN s.name AS name, s.grade AS grade, s.status AS status, s.disclosure AS disclosure,
  COLLECT {{
    MATCH (x:Sanction)-[:SANCTIONED]->(s)
    WHERE x.status = 'ACTIVE' AND (x.endDate IS NULL OR x.endDate >= date())
      AND x.listing IN $listings
    RETURN x.listing
  }} AS listings
"""
ISSUE = """
MATCH (s:Subject {creditCode: $code})
CREATE (c:Certificate {id: $id, creditCode: $code, grade: $grade, issuedOn: date($issued),
  expiresOn: date($expires), status: 'VALID', keyId: $keyId, issuedBy: $agency,
  createdAt: datetime()})-[:CERTIFIES]->(s)
"""
STATE = """
MATCH (c:Certificate {id: $id})-[:CERTIFIES]->(s:Subject)
RETURN c {.id, .creditCode, .grade, .status, .revokedReason, .keyId, .issuedBy,
          issuedOn: toString(c.issuedOn), expiresOn: toString(c.expiresOn),
          revokedOn: toString(c.revokedOn)} AS certificate,
  s.name AS name, s.grade AS grade
"""
# Run by the listing's own transaction (graph/records/listings.py).
REVOKE_ALL = """
MATCH (c:Certificate {creditCode: $code, status: 'VALID'})
SET c.status = 'REVOKED', c.revokedOn = date($today), c.revokedReason = $reason
RETURN count(c) AS revoked
"""
# Run by the rating's own write (graph/rating.py), one row per rated subject: certificates
# stating a grade better than the new one are revoked.
REVOKE_DROPPED = """
OPTIONAL MATCH (c:Certificate {creditCode: row.subject, status: 'VALID'})
WHERE c.grade IN row.better
SET c.status = 'REVOKED', c.revokedOn = date(), c.revokedReason = 'GRADE_DROPPED'
"""


def better_than(grade: str) -> list[str]:
    """The grades above ``grade``: a certificate stating one of them is revoked at ``grade``."""
    return list(GRADES[: GRADES.index(grade)]) if grade in GRADES else list(GRADES)


@dataclass(frozen=True, slots=True)
class Issued:
    id: str
    credit_code: str
    name: str
    grade: str
    issued_on: date
    expires_on: date


class NotEligible(Exception):
    """The subject may not obtain a certificate now; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def new_certificate_id() -> str:
    return f"CERT-{secrets.token_hex(8).upper()}"


async def issue(
    store: Store,
    rules: CertificateRules,
    code: str,
    *,
    agency: str,
    prefix: str,
    scope: dict[str, Any],
    key_id: str,
    today: date,
) -> Issued:
    """Issue a certificate at the subject's current grade, or raise :class:`NotEligible`; the
    unit ``agency`` issues for subjects of its jurisdiction (``prefix``) only."""

    async def work(tx: AsyncManagedTransaction) -> Issued:
        row = await (
            await tx.run(
                STANDING,
                code=code,
                unitPrefix=prefix,
                listings=sorted(rules.revoking_listings),
                **scope,
            )
        ).single()
        if row is None:
            raise NotEligible("not-found", "no such subject in the unit's jurisdiction")
        if row["disclosure"] != "PUBLIC":
            raise NotEligible("not-public", "a certificate is public: the subject's row is not")
        if row["status"] != "ACTIVE":
            raise NotEligible("inactive", "the subject is cancelled or revoked")
        if row["listings"]:
            raise NotEligible(
                "listed", "the subject is on a dishonesty list within its publication period"
            )
        if not rules.eligible(row["grade"]):
            raise NotEligible("grade", "certificates go to A-class subjects (AAA, AA, A) only")
        issued = Issued(
            new_certificate_id(),
            code,
            row["name"],
            row["grade"],
            today,
            rules.expires(today),
        )
        await tx.run(
            ISSUE,
            id=issued.id,
            code=code,
            grade=issued.grade,
            issued=today.isoformat(),
            expires=issued.expires_on.isoformat(),
            keyId=key_id,
            agency=agency,
        )
        return issued

    return await store.write(work)


async def state(store: Store, certificate: str) -> dict[str, Any] | None:
    """The certificate as stored now, with the subject's name and current grade."""
    rows = await store.read(STATE, id=certificate)
    if not rows:
        return None
    return {**dict(rows[0]["certificate"]), "name": rows[0]["name"], "gradeNow": rows[0]["grade"]}


async def revoke_in(
    tx: AsyncManagedTransaction, code: str, reason: str, today: date | None = None
) -> int:
    """Revoke every valid certificate of the subject inside the caller's transaction."""
    day = (today or datetime.now(UTC).date()).isoformat()
    row = await (await tx.run(REVOKE_ALL, code=code, reason=reason, today=day)).single()
    return int(row["revoked"]) if row else 0
