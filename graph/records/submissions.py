"""Submitting credit records: validation against the catalogue and the batched write.

A unit's record (one through GraphQL, or a row of an archive file) is checked here, then
written ``PENDING``: one ``UNWIND`` read finds the rows that are not simply new, each row's outcome
is decided from it, and the new rows are created, the corrected ones updated. Outcomes: created,
updated (a pending or returned record corrected by its unit), unchanged (the same content is
stored already), or refused (unknown subject, outside the unit's jurisdiction, a duplicate line
of the same file, a conflict with a published record). The natural key is item, subject and
document number; items that need no document use the decision date and title in its place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.archive.row_fields import RowError
from graph.db import Store
from graph.identifiers import InvalidIdentifier, validate_uscc
from policies.access import cypher_pending, cypher_readable
from policies.credit.catalogue import Item, check_record, default_catalogue
from policies.principal import Clearance
from policies.workdays import add_working_days

FIELDS = ("item", "subject", "tier", "title", "decidedOn", "document", "legalBasis", "disclosure")
EARLIEST = date(2000, 1, 1)  # archives go back to 2010; older dates are typing errors
_TIER_ALIASES = {"轻微": "MINOR", "一般": "GENERAL", "严重": "SERIOUS"}
_LIMITS = {"title": 500, "document": 200, "legalBasis": 500}
_CLASS_ALIASES = {"公开": "PUBLIC", "共享": "SHARED", "受限": "RESTRICTED", "保密": "CONFIDENTIAL"}


@dataclass(frozen=True, slots=True)
class Submission:
    """A validated record, ready for the write query."""

    id: str
    subject: str
    natural_key: str
    content_hash: str
    props: dict[str, Any]

    def params(self, line: int) -> dict[str, Any]:
        return {
            "line": line,
            "id": self.id,
            "subject": self.subject,
            "naturalKey": self.natural_key,
            "contentHash": self.content_hash,
            "props": self.props,
        }


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowError("invalid-value", f"{name} must be text")
    value = " ".join(value.split())
    if len(value) > _LIMITS.get(name, 64):
        raise RowError("invalid-value", f"{name} is longer than {_LIMITS.get(name, 64)} characters")
    return value or None


def _decided(value: str, today: date) -> date:
    try:
        decided = date.fromisoformat(value)
    except ValueError:
        raise RowError("invalid-date", f"decidedOn {value!r} is not a YYYY-MM-DD date") from None
    if not EARLIEST <= decided <= today:
        raise RowError("invalid-date", f"decidedOn {value} is not between {EARLIEST} and today")
    return decided


def _disclosure(value: str | None, item: Item) -> str:
    if value is None:
        return item.disclosure.name
    name = _CLASS_ALIASES.get(value, value.upper())
    if name not in Clearance.__members__:
        raise RowError("invalid-value", f"disclosure {value!r} is not a disclosure class")
    if Clearance[name] < item.disclosure:
        raise RowError(
            "invalid-value",
            f"disclosure {name} is below the catalogue's {item.disclosure.name} for {item.code}",
        )
    return name


def natural_key(item: str, subject: str, document: str | None, decided: date, title: str) -> str:
    if document:
        return f"{item}|{subject}|{document}"
    return f"{item}|{subject}|~{decided.isoformat()}|{title}"


def record_id(key: str) -> str:
    """Stable from the natural key, so the same record always gets the same id."""
    return "CR-" + hashlib.sha256(key.encode()).hexdigest()[:20].upper()


def parse_submission(raw: Mapping[str, Any], today: date) -> Submission:
    """Validate one record; raise :class:`RowError` with every catalogue problem at once."""
    if "creditCode" in raw and "subject" not in raw:  # the API's name for the same thing
        raw = {("subject" if k == "creditCode" else k): v for k, v in raw.items()}
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise RowError("unknown-field", f"unknown fields {', '.join(unknown)}")
    item_code = (_text(raw, "item") or "").upper()
    if not item_code:
        raise RowError("missing-field", "item is required (a catalogue item code)")
    item = default_catalogue().get(item_code)
    if item is None:
        raise RowError("unknown-item", f"{item_code!r} is not an item of the catalogue")
    code = _text(raw, "subject")
    if code is None:
        raise RowError("missing-field", "subject is required (a unified social credit code)")
    try:
        subject = validate_uscc(code)
    except InvalidIdentifier as exc:
        raise RowError("invalid-credit-code", f"subject: {exc}") from None
    tier_text = _text(raw, "tier")
    tier = _TIER_ALIASES.get(tier_text, tier_text.upper()) if tier_text else None
    values = {name: _text(raw, name) for name in ("title", "decidedOn", "document", "legalBasis")}
    problems = check_record(item_code, tier, {k for k, v in values.items() if v})
    if problems:
        reason = "missing-field" if all("requires" in p for p in problems) else "invalid-value"
        raise RowError(reason, "; ".join(problems))
    title = values["title"] or ""
    decided = _decided(values["decidedOn"] or "", today)
    disclosure = _disclosure(_text(raw, "disclosure"), item)
    within = item.publish_within_working_days
    props = {
        "item": item_code,
        "category": item.category,
        "tier": tier,
        "title": title,
        "decidedOn": decided,
        "document": values["document"],
        "legalBasis": values["legalBasis"],
        "disclosure": disclosure,
        "publishDeadline": add_working_days(decided, within) if within else None,
    }
    key = natural_key(item_code, subject, values["document"], decided, title)
    digest = hashlib.sha256(
        json.dumps(props, default=str, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return Submission(record_id(key), subject, key, digest, props)


# The rows that are not simply new: a subject unknown or outside the unit's jurisdiction, or a
# record stored under the same natural key. Every other row is simply created, and a batch
# answers with one record instead of one a row (receiving those was most of an import's Python).
# The stored record's status is told only to a caller who may read that record.
_FOUND = f"""
UNWIND $rows AS row
OPTIONAL MATCH (s:Subject {{creditCode: row.subject}})
OPTIONAL MATCH (old:CreditRecord {{naturalKey: row.naturalKey}})
WITH row, s, old WHERE s IS NULL OR NOT s.division STARTS WITH $unitPrefix OR old IS NOT NULL
RETURN collect({{line: row.line, subject: s IS NOT NULL,
  outside: NOT s.division STARTS WITH $unitPrefix, stored: old IS NOT NULL,
  importId: old.importId, importLine: old.importLine, importOutcome: old.importOutcome,
  contentHash: old.contentHash,
  status: old.status, agency: old.sourceAgency,
  shown: CASE WHEN old IS NOT NULL AND {cypher_readable("old", "s.division", "old.sourceAgency")}
    AND (old.status = 'PUBLISHED' OR {cypher_pending("s.division", "old.sourceAgency")})
    THEN old.status END}}) AS found
"""
_CREATE = """
MATCH (a:Agency {code: $agency})
UNWIND $rows AS row
MATCH (s:Subject {creditCode: row.subject})
CREATE (r:CreditRecord {id: row.id, naturalKey: row.naturalKey})
SET r += row.props, r.contentHash = row.contentHash, r.status = 'PENDING', r.approvals = [],
    r.returns = 0, r.sourceAgency = $agency, r.sourceSystem = $system, r.submittedBy = $by,
    r.submittedAt = $now, r.firstSeen = $now, r.lastSeen = $now,
    r.importId = $importId, r.importLine = row.line, r.importOutcome = $outcome
CREATE (s)-[:HAS_RECORD]->(r)
CREATE (a)-[:SUBMITTED {at: $now, by: $by}]->(r)
"""
_UPDATE = """
UNWIND $rows AS row
MATCH (old:CreditRecord {naturalKey: row.naturalKey})
SET old += row.props, old.contentHash = row.contentHash, old.status = 'PENDING',
    old.approvals = [], old.submittedBy = $by, old.submittedAt = $now, old.lastSeen = $now,
    old.importId = $importId, old.importLine = row.line, old.importOutcome = $outcome
"""
# Rows of one import carry its id, line and outcome, so a later line with the same natural key
# is a duplicate of that line, while a re-run of the same import (a worker killed after some
# batches committed) finds its own line, writes nothing twice and reports what the first run did.
_TOUCH = """
UNWIND $rows AS row
MATCH (old:CreditRecord {naturalKey: row.naturalKey})
SET old.lastSeen = $now, old.importId = $importId, old.importLine = row.line,
    old.importOutcome = $outcome
"""

_REFUSALS = {
    "unknown-subject": "no subject with this credit code is registered in the hub",
    "outside-jurisdiction": "the subject is registered outside your unit's jurisdiction",
    "conflict": "a record with this item, subject and document {status} with other content;"
    " change a published record with proposeCorrection or proposeWithdrawal, not by resubmitting",
    "duplicate": "same item, subject and document as line {firstLine}",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    line: int
    id: str
    outcome: str  # created, updated, unchanged, or a refusal reason
    message: str = ""
    status: str | None = None  # the stored record's status after the write
    again: bool = False  # written by an earlier run of the same import: nothing to write now

    @property
    def refused(self) -> bool:
        return self.outcome in _REFUSALS


def _decide(row: Mapping[str, Any], found: Mapping[str, Any] | None, agency: str,
            import_id: str | None) -> str:  # fmt: skip
    """What happens to a row, from what ``_FOUND`` returned for it (``None``: nothing there).
    Cypher's nulls compare as false, so a record stored outside imports is never a duplicate."""
    if found is None:
        return "created"
    if not found["subject"]:
        return "unknown-subject"
    if found["outside"] is True:
        return "outside-jurisdiction"
    if not found["stored"]:
        return "created"
    first = found["importLine"]
    if (
        import_id is not None
        and found["importId"] == import_id
        and first not in (None, row["line"])
    ):
        return "duplicate"
    if found["contentHash"] == row["contentHash"]:
        return "unchanged"
    if found["status"] in ("PENDING", "RETURNED") and found["agency"] == agency:
        return "updated"
    return "conflict"


def _earlier(row: Mapping[str, Any], found: Mapping[str, Any] | None,
             import_id: str | None) -> str | None:  # fmt: skip
    """The outcome an earlier run of this same import recorded for this very line (its worker
    was killed after the batch committed), so the re-run reports what the first run did."""
    if (
        found is None
        or import_id is None
        or found["importId"] != import_id
        or found["importLine"] != row["line"]
        or found["contentHash"] != row["contentHash"]
    ):
        return None
    earlier: str | None = found["importOutcome"]
    return earlier


def _outcome(row: Mapping[str, Any], found: Mapping[str, Any] | None, agency: str,
             import_id: str | None) -> Outcome:  # fmt: skip
    shown = found["shown"] if found else None
    if earlier := _earlier(row, found, import_id):
        return Outcome(row["line"], row["id"], earlier, status=shown, again=True)
    outcome = _decide(row, found, agency, import_id)
    # A stored record the caller may not read is named by neither status nor content.
    known = f"is {shown}" if shown else "already exists"
    first = found["importLine"] if found else None
    message = _REFUSALS.get(outcome, "").format(status=known, firstLine=first)
    status = "PENDING" if outcome in ("created", "updated") else shown
    return Outcome(row["line"], row["id"], outcome, message, status)


async def submit(
    tx: AsyncManagedTransaction,
    rows: list[dict[str, Any]],
    *,
    agency: str,
    prefix: str,
    by: str,
    now: datetime,
    scope: Mapping[str, Any],
    import_id: str | None = None,
    system: str = "hub",
) -> list[Outcome]:
    """Write submissions (``Submission.params``, one per natural key) for ``agency``, whose
    jurisdiction is ``prefix``, on behalf of a caller with read ``scope``; one outcome per row:
    created, updated (a pending or returned record corrected by its unit), unchanged (the same
    content is stored already), or refused."""
    result = await tx.run(_FOUND, rows=rows, **{**scope, "agency": agency}, unitPrefix=prefix)
    found = {f["line"]: f for f in (await result.single(strict=True))["found"]}
    outcomes = [_outcome(r, found.get(r["line"]), agency, import_id) for r in rows]
    params: dict[str, Any] = {
        "agency": agency,
        "by": by,
        "now": now,
        "importId": import_id,
        "system": system,
    }
    for query, kind in ((_CREATE, "created"), (_UPDATE, "updated"), (_TOUCH, "unchanged")):
        chosen = [
            r for r, o in zip(rows, outcomes, strict=True) if o.outcome == kind and not o.again
        ]
        if chosen and (kind != "unchanged" or import_id is not None):
            outcome = kind if import_id is not None else None
            await (await tx.run(query, rows=chosen, outcome=outcome, **params)).consume()
    return outcomes


async def submit_one(
    store: Store,
    submission: Submission,
    *,
    agency: str,
    prefix: str,
    by: str,
    scope: Mapping[str, Any],
) -> Outcome:
    """One record through GraphQL: the same write as an archive row."""

    async def work(tx: AsyncManagedTransaction) -> list[Outcome]:
        return await submit(
            tx,
            [submission.params(1)],
            agency=agency,
            prefix=prefix,
            by=by,
            now=datetime.now(UTC),
            scope=scope,
        )

    (outcome,) = await store.write(work)
    return outcome
