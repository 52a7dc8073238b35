"""What each unit has overdue: open objections, complaints, repair applications and cases past
the deadline of their current step, read through the properties every filing node shares
(``id``, ``status``, ``unit``, ``creditCode``, ``filedOn``, ``dueOn``, ``open``).

One query over the four labels, so a unit's list and the collection assessment count the same
things; ``unitPrefix`` (NMG + the caller's division prefix) keeps a unit to its own and its
lower units' filings. A case also says whose move it is: its ``duty`` (the document that set it
going, policies/cases.yaml) and ``party``; the other labels have neither.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from graph.db import Store

FILING_LABELS = ("Objection", "Complaint", "RepairApplication", "Case")
_OVERDUE = "f.open AND f.dueOn < $today AND f.unit STARTS WITH $unitPrefix"
OVERDUE = f"""
CALL () {{
  MATCH (f:Objection) WHERE {_OVERDUE} RETURN f, 'Objection' AS kind
  UNION
  MATCH (f:Complaint) WHERE {_OVERDUE} RETURN f, 'Complaint' AS kind
  UNION
  MATCH (f:RepairApplication) WHERE {_OVERDUE} RETURN f, 'RepairApplication' AS kind
  UNION
  MATCH (f:Case) WHERE {_OVERDUE} RETURN f, 'Case' AS kind
}}
WITH f, kind WHERE f.dueOn > $afterDue OR (f.dueOn = $afterDue AND f.id > $afterId)
RETURN kind, f.id AS id, f.status AS status, f.unit AS unit, f.creditCode AS creditCode,
  toString(f.filedOn) AS filedOn, toString(f.dueOn) AS dueOn, f.duty AS duty, f.party AS party
ORDER BY f.dueOn, f.id LIMIT $limit
"""
COUNTS = f"""
CALL () {{
  MATCH (f:Objection) WHERE {_OVERDUE} RETURN f.unit AS unit, 'Objection' AS kind
  UNION ALL
  MATCH (f:Complaint) WHERE {_OVERDUE} RETURN f.unit AS unit, 'Complaint' AS kind
  UNION ALL
  MATCH (f:RepairApplication) WHERE {_OVERDUE} RETURN f.unit AS unit, 'RepairApplication' AS kind
  UNION ALL
  MATCH (f:Case) WHERE {_OVERDUE} RETURN f.unit AS unit, 'Case' AS kind
}}
RETURN unit, kind, count(*) AS n
"""


async def overdue_items(
    store: Store, agency_prefix: str, today: date, after: tuple[date, str], limit: int
) -> list[dict[str, Any]]:
    """Open filings and cases past their due day, of the units ``agency_prefix`` covers,
    earliest due first; ``after`` is the (due day, id) of the last one already shown."""
    rows = await store.execute(
        OVERDUE, unitPrefix=agency_prefix, today=today, afterDue=after[0], afterId=after[1],
        limit=limit, read=True,
    )  # fmt: skip
    return [dict(r) for r in rows]


async def overdue_counts(store: Store, today: date) -> dict[str, dict[str, int]]:
    """Per unit, how many open filings and cases of each label are overdue today."""
    rows = await store.execute(COUNTS, unitPrefix="", today=today, read=True)
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["unit"], dict.fromkeys(FILING_LABELS, 0))[r["kind"]] = r["n"]
    return counts
