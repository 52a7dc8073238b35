"""The demo seed obeys the law it demonstrates: every record and listing it put in Neo4j keeps
the catalogue's tiers and publication bounds (国办发〔2025〕22号: serious at most 36 months) and
each listing's maximum, the same rules an import is held to (graph/archive/rows.py)."""

from __future__ import annotations

from datetime import date

from neo4j import AsyncDriver

from demo.odds import SYSTEM
from policies.credit.catalogue import add_months, default_catalogue, publication_window
from policies.credit.determination import default_rules
from policies.credit.measures import default_measures

RECORDS = """
MATCH (r:CreditRecord) WHERE r.sourceSystem = $system
RETURN r.id AS id, r.item AS item, r.category AS category, r.tier AS tier,
  r.decidedOn AS decided, r.publishFrom AS publishFrom, r.publishUntil AS publishUntil
"""
LISTINGS = """
MATCH (n:Sanction) WHERE n.sourceSystem = $system
RETURN n.id AS id, n.listing AS listing, n.measures AS measures, n.startDate AS start,
  n.endDate AS end
"""


def _day(value: object) -> date | None:
    return value.to_native() if value is not None else None  # type: ignore[attr-defined, no-any-return]


async def test_every_seeded_record_and_listing_keeps_the_catalogue_bounds(
    seeded: int, driver: AsyncDriver
) -> None:
    records, _, _ = await driver.execute_query(RECORDS, system=SYSTEM, database_="neo4j")
    listings, _, _ = await driver.execute_query(LISTINGS, system=SYSTEM, database_="neo4j")
    assert len(records) > seeded and len(listings) > 50  # the seed wrote what we check
    catalogue = default_catalogue()
    broken = []
    for r in records:
        item = catalogue[r["item"]]
        decided = _day(r["decided"])
        assert decided is not None
        tiers = set(item.tiers) or {None}  # basic and trustworthy items carry no tier
        if r["category"] != item.category or r["tier"] not in tiers:
            broken.append((r["id"], r["item"], r["tier"], "tier"))
            continue
        until, start = _day(r["publishUntil"]), _day(r["publishFrom"])
        limit = publication_window(item, r["tier"], decided).until
        if limit is not None and (until is None or until > limit or until < decided):
            broken.append((r["id"], r["item"], r["tier"], f"{decided} → {until}, max {limit}"))
        if start is not None and start < decided:
            broken.append((r["id"], r["item"], r["tier"], f"published {start} before {decided}"))
    periods = default_rules().publication
    for n in listings:
        start, end = _day(n["start"]), _day(n["end"])
        assert start is not None
        period = periods.get(n["listing"])
        if period and (end is None or end > add_months(start, period.max_months)):
            broken.append((n["id"], n["listing"], None, f"{start} → {end}"))
        allowed = {m.code for m in default_measures().for_listing(n["listing"])}
        if not set(n["measures"]) <= allowed:
            broken.append((n["id"], n["listing"], None, f"measures {n['measures']}"))
    assert broken == []
