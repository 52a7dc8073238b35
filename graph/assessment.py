"""Per-unit assessment of the collection work: volume, timeliness, returns and overdue items.

Timeliness is measured where the hub knows the deadline: records submitted through it carry
``publishDeadline`` (7 working days after the decision for licences and penalties, on the
Chinese holiday calendar) and ``publishedOn``. A record is on time when published by its
deadline, late when published after it, overdue when still unpublished past it. Each unit's
open objections, complaints, repair applications and cases past their deadline today are counted
too (graph/rights/overdue.py), so a unit with only overdue filings still has its row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from graph.db import Store
from graph.rights.overdue import overdue_counts
from policies.units import units_by_code

ASSESSMENT = """
MATCH (r:CreditRecord)
WHERE r.decidedOn >= $from AND r.decidedOn <= $to
  AND r.sourceAgency IS NOT NULL AND ($unit IS NULL OR r.sourceAgency = $unit)
RETURN r.sourceAgency AS unit,
  count(r) AS submitted,
  count(CASE WHEN r.status IN ['PUBLISHED', 'EXPIRED', 'REPAIRED'] THEN 1 END) AS published,
  count(CASE WHEN r.status = 'PENDING' THEN 1 END) AS pending,
  count(CASE WHEN r.returns > 0 THEN 1 END) AS returned,
  count(r.publishDeadline) AS due,
  count(CASE WHEN r.publishedOn <= r.publishDeadline THEN 1 END) AS onTime,
  count(CASE WHEN r.publishedOn > r.publishDeadline THEN 1 END) AS late,
  count(CASE WHEN r.publishedOn IS NULL AND r.publishDeadline < $today THEN 1 END) AS overdue
ORDER BY unit
"""

ASSESSMENT_COLUMNS = [
    "unit",
    "unitName",
    "level",
    "submitted",
    "published",
    "pending",
    "returned",
    "returnRate",
    "due",
    "onTime",
    "late",
    "overdue",
    "timelinessRate",
    "overdueObjections",
    "overdueComplaints",
    "overdueRepairs",
    "overdueCases",
]
_FILINGS = {
    "overdueObjections": "Objection",
    "overdueComplaints": "Complaint",
    "overdueRepairs": "RepairApplication",
    "overdueCases": "Case",
}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def assess(
    store: Store,
    first: date,
    last: date,
    today: date,
    unit: str | None = None,
) -> list[dict[str, Any]]:
    """One row per unit with records decided from ``first`` to ``last``."""
    names = units_by_code()
    records = await store.execute(
        ASSESSMENT,
        {"from": first, "to": last, "today": today, "unit": unit},
        read=True,
    )
    filings = await overdue_counts(store, today)
    if unit is not None:
        filings = {u: n for u, n in filings.items() if u == unit}
    empty = {"submitted": 0, "published": 0, "pending": 0, "returned": 0, "due": 0,
             "onTime": 0, "late": 0, "overdue": 0}  # fmt: skip
    seen = {r["unit"] for r in records}
    rows = []
    for r in [*records, *({"unit": u, **empty} for u in sorted(set(filings) - seen))]:
        known = names.get(r["unit"])
        measured = r["onTime"] + r["late"] + r["overdue"]
        rows.append(
            {
                "unit": r["unit"],
                "unitName": known.name if known else None,
                "level": known.level.value if known else None,
                "submitted": r["submitted"],
                "published": r["published"],
                "pending": r["pending"],
                "returned": r["returned"],
                "returnRate": _ratio(r["returned"], r["submitted"]),
                "due": r["due"],
                "onTime": r["onTime"],
                "late": r["late"],
                "overdue": r["overdue"],
                "timelinessRate": _ratio(r["onTime"], measured),
                **{
                    name: filings.get(r["unit"], {}).get(label, 0)
                    for name, label in _FILINGS.items()
                },
            }
        )
    return sorted(rows, key=lambda row: str(row["unit"]))
