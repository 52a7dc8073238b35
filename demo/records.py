"""What a generated subject holds and has done: licences, credit records and listings.

Licences come in the shape each kind uses; serious-dishonesty and abnormal-operation listings
come with the records they rest on.
"""

from __future__ import annotations

from demo.odds import (
    ABNORMAL_FIRST,
    ABNORMAL_TERM_YEARS,
    BANNER_AGENCY_RATE,
    PENDING_FROM,
    PENDING_RATE,
    RECORDS_FIRST,
    REFERENCE,
    REPAIRED_RATE,
    SCORE_DELTA,
    SCORE_START,
    SERIOUS_TERM_YEARS,
    SYSTEM,
    iso,
    plus_months,
    plus_years,
)
from demo.places import Place
from demo.pools import Draft, Pools
from demo.rows import Row, source_of
from demo.tables import (
    ABNORMAL_MEASURES,
    DISCLOSURES,
    ITEMS,
    LEAGUE_SHORT,
    LICENCE_COUNTS,
    LICENCE_SPECS,
    MINERAL_LICENCES,
    MINOR_RATE,
    ORDINARY_ITEMS,
    RECORD_COUNTS,
    SERIOUS_ITEMS,
    SERIOUS_MEASURES,
    TERM_MONTHS,
    Item,
)
from policies.credit.catalogue import default_catalogue
from policies.divisions import Division
from policies.units import agency_code


def licences(pools: Pools, draft: Draft) -> list[Row]:
    rng = pools.rng
    licences = draft.industry.licences
    kinds = [rng.choice(licences) for _ in range(LICENCE_COUNTS.pick(rng))]
    if draft.abnormal and not any(kind in MINERAL_LICENCES for kind in kinds):
        kinds.append(rng.choice(MINERAL_LICENCES))  # a filing duty needs a mineral right
    return [_licence(pools, draft, kind) for kind in kinds]


def _licence(pools: Pools, draft: Draft, kind: str) -> Row:
    rng = pools.rng
    place, registered = draft.place, draft.registered
    spec = LICENCE_SPECS[kind]
    by_league = spec.issuer_level == "LEAGUE" or rng.random() >= BANNER_AGENCY_RATE
    issuer = place.league if by_league else place.banner
    issued = rng.randrange(min(registered + 30, REFERENCE - 1), REFERENCE)
    pools.licence_no += 1
    return {
        "kind": "Licence",
        "id": f"L-{pools.licence_no:08d}",
        "licenceKind": kind,
        "number": _licence_number(pools, kind, issuer, issued),
        "holder": draft.code,
        "issuer": agency_code(issuer.code),
        "issuedOn": iso(issued),
        "validUntil": iso(plus_years(issued, rng.choice(spec.terms))),
        "disclosure": "PUBLIC",
        "source": source_of(agency_code(issuer.code)),
    }


def _licence_number(pools: Pools, kind: str, issuer: Division, issued: int) -> str:
    """Numbers in the shape each licence kind uses in practice."""
    rng = pools.rng
    year, month = iso(issued)[:4], iso(issued)[5:7]
    serial = rng.randrange(1, 10_000)
    if kind == "MINING":
        return f"C{issuer.code}{year}{month}11{year}{serial:04d}"
    if kind == "EXPLORATION":
        return f"T{issuer.code}{year}{month}02{year}{serial:04d}"
    if kind == "LAND_USE":
        return f"蒙({year}){issuer.name}不动产权第{rng.randrange(1, 10_000_000):07d}号"
    if kind == "SURVEYING":
        return f"{rng.choice('甲乙丙丁')}测资字15{rng.randrange(1_000_000):06d}"
    return f"蒙地灾资证字〔{year}〕{serial:04d}号"


def records(pools: Pools, rows: list[Row], draft: Draft) -> tuple[int, bool, bool]:
    """Append records and sanctions; return the score and which listings are active.

    The score counts PUBLISHED records only: pending ones are not yet in force, expired
    and repaired ones no longer are.
    """
    rng = pools.rng
    score = SCORE_START
    for _ in range(RECORD_COUNTS.pick(rng)):
        record = _ordinary_record(pools, draft)
        rows.append(record)
        if record["status"] == "PUBLISHED":
            weight: str = record["tier"] if "tier" in record else record["category"]
            score += SCORE_DELTA.get(weight, 0)
    serious_active = abnormal_active = False
    if draft.serious:
        serious_active = _serious(pools, rows, draft)
    if draft.abnormal:
        abnormal_active = _abnormal(pools, rows, draft)
        score += SCORE_DELTA["GENERAL"] if abnormal_active else 0
    return score, serious_active, abnormal_active


def _record(
    pools: Pools, draft: Draft, item: Item, tier: str | None, agency: Division, decided: int,
    status: str, disclosure: str,
) -> Row:  # fmt: skip
    """A record; dishonest ones are published for their tier's term from the decision."""
    rng = pools.rng
    pools.record_no += 1
    agency_id = agency_code(agency.code)
    document = _document(pools, item, agency, draft.place, decided)
    row: Row = {
        "kind": "CreditRecord",
        "id": f"R-{pools.record_no:08d}",
        "subject": draft.code,
        "agency": agency_id,
        "item": item.code,
        "category": item.category,
    }
    if tier is not None:
        row["tier"] = tier
    row.update(
        title=rng.choice(item.titles),
        decidedOn=iso(decided),
        document=document,
        legalBasis=rng.choice(item.bases),
        publishFrom=iso(decided),
    )
    if tier is not None:
        row["publishUntil"] = iso(plus_months(decided, TERM_MONTHS[tier]))
    row["status"] = status
    row["disclosure"] = disclosure
    row["source"] = {
        "agency": agency_id,
        "document": document,
        "decidedOn": iso(decided),
        "system": SYSTEM,
    }
    return row


def _ordinary_record(pools: Pools, draft: Draft) -> Row:
    rng = pools.rng
    item = ORDINARY_ITEMS.pick(rng)
    tier = None
    if item.category == "DISHONEST":
        minor = rng.random() < MINOR_RATE
        # Only items the catalogue lets be minor (land and court items start at GENERAL).
        tier = "MINOR" if minor and "MINOR" in default_catalogue()[item.code].tiers else "GENERAL"
    pending = rng.random() < PENDING_RATE
    first = PENDING_FROM if pending else max(draft.registered, RECORDS_FIRST)
    decided = rng.randrange(first, REFERENCE)
    place = draft.place
    agency = place.banner if rng.random() < BANNER_AGENCY_RATE else place.league
    if pending:
        status = "PENDING"
    elif tier is not None and plus_months(decided, TERM_MONTHS[tier]) <= REFERENCE:
        status = "EXPIRED"
    else:
        status = "PUBLISHED"
    disclosure = DISCLOSURES.pick(rng)
    return _record(pools, draft, item, tier, agency, decided, status, disclosure)


def _document(pools: Pools, item: Item, agency: Division, place: Place, decided: int) -> str:
    year = iso(decided)[:4]
    number = pools.rng.randrange(1, 300)
    if not item.document:
        return f"（{year}）蒙{place.banner.code[2:]}执{number}号"
    short = place.short if agency.code == place.banner.code else LEAGUE_SHORT[agency.code]
    return f"{short}自然资{item.document}〔{year}〕{number}号"


def _serious(pools: Pools, rows: list[Row], draft: Draft) -> bool:
    """A SERIOUS record and the serious-dishonesty listing based on it; True if active."""
    rng = pools.rng
    decided = rng.randrange(max(draft.registered, RECORDS_FIRST), REFERENCE)
    end = plus_years(decided, SERIOUS_TERM_YEARS)
    active = end > REFERENCE
    item = rng.choice(SERIOUS_ITEMS)
    status = "PUBLISHED" if active else "EXPIRED"
    # Serious-dishonesty lists are published, so their records are PUBLIC.
    league = draft.place.league
    record = _record(pools, draft, item, "SERIOUS", league, decided, status, "PUBLIC")
    measures = rng.sample(SERIOUS_MEASURES, rng.randint(2, 4))
    rows.append(record)
    listed = "ACTIVE" if active else "ENDED"
    rows.append(_sanction(pools, record, "SERIOUS_DISHONESTY", measures, end, listed))
    return active


def _abnormal(pools: Pools, rows: list[Row], draft: Draft) -> bool:
    """A mining-filing abnormality and its listing, corrected in some cases; True if active."""
    rng = pools.rng
    decided = rng.randrange(max(draft.registered, ABNORMAL_FIRST), REFERENCE)
    item = ITEMS["MINING_FILING_ABNORMAL"]
    if rng.random() < REPAIRED_RATE:
        end = min(decided + rng.randrange(30, 300), REFERENCE - 1)
        active, status, listed = False, "REPAIRED", "REPAIRED"
    else:
        end = plus_years(decided, ABNORMAL_TERM_YEARS)
        active = end > REFERENCE
        status = "PUBLISHED" if active else "EXPIRED"
        listed = "ACTIVE" if active else "ENDED"
    league = draft.place.league
    record = _record(pools, draft, item, "GENERAL", league, decided, status, "PUBLIC")
    rows.append(record)
    measures = list(ABNORMAL_MEASURES)
    rows.append(_sanction(pools, record, "ABNORMAL_OPERATION", measures, end, listed))
    return active


def _sanction(
    pools: Pools, record: Row, listing: str, measures: list[str], end: int, status: str
) -> Row:
    pools.sanction_no += 1
    return {
        "kind": "Sanction",
        "id": f"S-{pools.sanction_no:08d}",
        "subject": record["subject"],
        "listing": listing,
        "measures": measures,
        "startDate": record["decidedOn"],
        "endDate": iso(end),
        "status": status,
        "authority": record["agency"],
        "basedOn": [record["id"]],
        "disclosure": "PUBLIC",
        "source": record["source"],
    }
