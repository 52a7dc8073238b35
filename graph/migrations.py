"""Versioned, idempotent schema migrations.

Each migration is a list of Cypher statements that are safe to run again (``IF NOT EXISTS``);
applied versions are recorded as ``(:Migration {version})`` so ``hub migrate`` reports what it did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graph.db import Store
from policies.units import units

KEYS: dict[str, str] = {
    "Subject": "creditCode",
    "Person": "personId",
    "Agency": "code",
    "Partner": "code",
    "Licence": "id",
    "Project": "id",
    "CreditRecord": "id",
    "Sanction": "id",
    "Rating": "id",
    "Case": "id",
    "Document": "id",
    "Objection": "id",
    "Complaint": "id",
    "Phone": "number",
    "Address": "text",
    "Email": "address",
    "OutboxEvent": "id",
    "Migration": "version",
}
# AuditEvent is keyed by (chain, seq) and eventId, AuditHead by chain: migration 4.


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    params: Callable[[], dict[str, Any]] = dict  # parameters for data migrations


def _units() -> dict[str, Any]:
    return {
        "units": [
            {"code": u.code, "name": u.name, "level": u.level.value, "division": u.division}
            for u in units()
        ]
    }


def _unique(label: str, prop: str) -> str:
    return (
        f"CREATE CONSTRAINT {label.lower()}_{prop.lower()}_unique IF NOT EXISTS "
        f"FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
    )


def _index(label: str, prop: str, kind: str = "RANGE") -> str:
    prefix = "" if kind == "RANGE" else f"{kind} "
    name = f"{label.lower()}_{prop.lower()}_{kind.lower()}"
    return f"CREATE {prefix}INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "uniqueness constraints on every node key",
        tuple(_unique(label, prop) for label, prop in KEYS.items()),
    ),
    Migration(
        2,
        "lookup indexes for filters, review queues and feeds",
        (
            _index("Subject", "division"),
            _index("Subject", "grade"),
            _index("Subject", "kind"),
            _index("Subject", "name", "TEXT"),
            _index("Person", "name", "TEXT"),
            _index("CreditRecord", "status"),
            _index("CreditRecord", "item"),
            _index("Sanction", "status"),
            _index("Agency", "division"),
        ),
    ),
    Migration(
        3,
        "the department's units at region, league and banner level (GB/T 2260)",
        (
            "UNWIND $units AS u MERGE (a:Agency {code: u.code}) "
            "SET a.name = u.name, a.level = u.level, a.division = u.division",
        ),
        _units,
    ),
    Migration(
        4,
        "audit chain: (chain, seq) and eventId unique, one head per chain, trail indexes",
        (
            "DROP CONSTRAINT auditevent_seq_unique IF EXISTS",  # one seq per chain, not overall
            "CREATE CONSTRAINT auditevent_chain_seq_unique IF NOT EXISTS "
            "FOR (n:AuditEvent) REQUIRE (n.chain, n.seq) IS UNIQUE",
            _unique("AuditEvent", "eventId"),
            _unique("AuditHead", "chain"),
            "CREATE INDEX auditevent_subject_seq IF NOT EXISTS "
            "FOR (n:AuditEvent) ON (n.subject, n.seq)",
            "CREATE INDEX auditevent_agency_seq IF NOT EXISTS "
            "FOR (n:AuditEvent) ON (n.agency, n.seq)",
            _index("AuditEvent", "at"),
        ),
    ),
    Migration(
        5,
        "registered operations (trusted documents) keyed by their SHA-256",
        (_unique("Operation", "hash"),),
    ),
    Migration(
        6,
        "submissions: natural key of records, archive imports and their rejections, queues",
        (
            _unique("CreditRecord", "naturalKey"),
            _unique("ArchiveImport", "id"),
            "CREATE INDEX importrejection_import_line IF NOT EXISTS "
            "FOR (n:ImportRejection) ON (n.importId, n.line)",
            "CREATE INDEX creditrecord_status_submitted IF NOT EXISTS "
            "FOR (n:CreditRecord) ON (n.status, n.submittedAt)",
            _index("CreditRecord", "sourceAgency"),
            _index("CreditRecord", "publishUntil"),
            _index("CreditRecord", "decidedOn"),
        ),
    ),
    Migration(
        7,
        "name search: full-text (CJK) over names, pinyin and initials",
        (
            "CREATE FULLTEXT INDEX name_fulltext IF NOT EXISTS FOR (n:Subject|Person) "
            "ON EACH [n.name, n.nameNormalised] "
            "OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}",
            _index("Subject", "namePinyin", "TEXT"),
            _index("Person", "namePinyin", "TEXT"),
            _index("Subject", "nameInitials"),
            _index("Person", "nameInitials"),
        ),
    ),
    Migration(
        8,
        "joint punishment: listing cases, the outbox's feed versions, deliveries per partner",
        (
            _unique("OutboxEvent", "version"),
            "CREATE INDEX outboxevent_subject_seq IF NOT EXISTS "
            "FOR (n:OutboxEvent) ON (n.subject, n.seq)",
            _unique("Delivery", "id"),
            "CREATE INDEX delivery_partner_status_next IF NOT EXISTS "
            "FOR (n:Delivery) ON (n.partner, n.status, n.nextAt)",
            "CREATE INDEX delivery_partner_subject IF NOT EXISTS "
            "FOR (n:Delivery) ON (n.partner, n.subject, n.status)",
            _index("Delivery", "event"),
            _index("OutboxEvent", "createdAt"),
            "CREATE INDEX delivery_partner_version IF NOT EXISTS "
            "FOR (n:Delivery) ON (n.partner, n.version)",
            _unique("Counter", "name"),
            _unique("ListingCase", "id"),
            _index("ListingCase", "status"),
        ),
    ),
    Migration(
        9,
        "records: proposed corrections and withdrawals, earlier versions, record restrictions",
        (
            _unique("RecordChange", "id"),
            _index("RecordChange", "status"),
            _unique("RecordVersion", "id"),
            _unique("Restriction", "id"),
            _index("Restriction", "status"),
        ),
    ),
    Migration(
        10,
        "a complete feed: each listing's events (backfill, snapshot, a new partner's bootstrap)",
        (
            "CREATE INDEX outboxevent_sanction_version IF NOT EXISTS "
            "FOR (n:OutboxEvent) ON (n.sanction, n.version)",
        ),
    ),
    Migration(
        11,
        "the public portal: lists by listing, 双公示 by publication day, credit certificates",
        (
            _index("Sanction", "listing"),
            _index("CreditRecord", "publishedOn"),
            _unique("Certificate", "id"),
            _index("Certificate", "creditCode"),
        ),
    ),
    Migration(
        12,
        "subjects' rights: objections, complaints, repair applications, commitments, evidence",
        (
            _unique("Evidence", "id"),
            _unique("RepairApplication", "id"),
            _unique("Commitment", "id"),
            _unique("Complaint", "tracking"),
            *(
                _index(label, prop)
                for label in ("Objection", "Complaint", "RepairApplication")
                for prop in ("status", "unit", "creditCode")
            ),
            _index("Commitment", "creditCode"),
        ),
    ),
    Migration(
        16,
        "repair applications by target (one open per target) and by deadline (overdue lists)",
        (_index("RepairApplication", "target"), _index("RepairApplication", "dueOn")),
    ),
    Migration(
        17,
        "cases: a matter's documents by number within the case and across cases, duties by day",
        (
            _unique("Case", "id"),
            *(_index("Case", prop) for prop in ("creditCode", "status", "unit", "dueOn")),
            _unique("CaseDocument", "id"),
            "CREATE CONSTRAINT casedocument_case_number IF NOT EXISTS "
            "FOR (n:CaseDocument) REQUIRE (n.case, n.number) IS UNIQUE",
            _index("CaseDocument", "number"),
        ),
    ),
    Migration(
        20,
        "court documents no case claims: one queued per credit code and number, by status",
        (
            _unique("UnmatchedDocument", "id"),
            "CREATE CONSTRAINT unmatcheddocument_code_number IF NOT EXISTS "
            "FOR (n:UnmatchedDocument) REQUIRE (n.creditCode, n.number) IS UNIQUE",
            _index("UnmatchedDocument", "status"),
        ),
    ),
    Migration(
        21,
        "typical cases: one by id, a unit's by status, the portal's by publication day",
        (
            _unique("TypicalCase", "id"),
            *(_index("TypicalCase", prop) for prop in ("status", "unit", "publishedOn")),
        ),
    ),
    Migration(
        22,
        "industry associations by code, their self-discipline actions by id, record, association",
        (
            _unique("Association", "code"),
            _unique("SelfDiscipline", "id"),
            _unique("SelfDiscipline", "record"),
            _index("SelfDiscipline", "association"),
        ),
    ),
    Migration(
        23,
        "deliveries by lane: a runner's due ones in order, the sweeper's lanes with work, by seek",
        (
            "CREATE INDEX delivery_lane_version IF NOT EXISTS "
            "FOR (n:Delivery) ON (n.partner, n.status, n.shard, n.version)",
            "CREATE INDEX delivery_lane_next IF NOT EXISTS "
            "FOR (n:Delivery) ON (n.partner, n.status, n.shard, n.nextAt)",
            # What the sweeper read before (migration 8 made it until issue 17): kept up to date
            # on every delivery's state change, read by nothing now.
            "DROP INDEX delivery_status_next IF EXISTS",
        ),
    ),
)

_APPLIED = "MATCH (m:Migration) RETURN m.version AS version ORDER BY version"
_RECORD = (
    "MERGE (m:Migration {version: $version}) "
    "ON CREATE SET m.description = $description, m.appliedAt = $at"
)


async def applied_versions(store: Store) -> list[int]:
    records = await store.execute(_APPLIED, read=True)
    return [int(r["version"]) for r in records]


async def migrate(
    store: Store,
    report: Callable[[Migration, bool], None] = lambda m, new: None,
    *,
    upto: int | None = None,
    wait: int = 300,
) -> list[int]:
    """Apply every migration (statements are idempotent), or those up to version ``upto``
    (a restore brings a backup's schema back as it was), and wait up to ``wait`` seconds for
    the indexes to come online; return the versions that were new."""
    done = set(await applied_versions(store))
    new: list[int] = []
    for migration in MIGRATIONS:
        if upto is not None and migration.version > upto:
            break
        params = migration.params()
        for statement in migration.statements:
            await store.execute(statement, params)
        await store.execute(
            _RECORD,
            version=migration.version,
            description=migration.description,
            at=datetime.now(UTC).isoformat(),
        )
        is_new = migration.version not in done
        if is_new:
            new.append(migration.version)
        report(migration, is_new)
    await store.execute("CALL db.awaitIndexes($wait)", wait=wait)
    return new
