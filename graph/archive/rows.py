"""Validation of exchange-file rows (docs/data-format.md) into write parameters.

Pure functions: a row is either turned into the parameters its Cypher needs, or refused with a
:class:`RowError` whose ``reason`` is a stable word and whose message says what to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from graph.archive.row_fields import (
    RowError,
    choice_field,
    code_field,
    date_field,
    disclosure_field,
    division_field,
    end_in_term,
    id_field,
    provenance,
    strings_field,
    text_field,
)
from graph.identifiers import InvalidIdentifier, resident_id
from policies.credit import determination, measures
from policies.credit.catalogue import add_months, default_catalogue, publication_window
from policies.credit.listings import LISTINGS
from policies.names import name_keys

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
LEVELS = ("REGION", "LEAGUE", "BANNER")
SUBJECT_KINDS = ("COMPANY", "INDIVIDUAL_BUSINESS", "INSTITUTION", "RURAL_COLLECTIVE", "OTHER")
SUBJECT_STATUS = ("ACTIVE", "REVOKED", "CANCELLED")
PROJECT_KINDS = (
    "LAND_CONSOLIDATION",
    "MINE_RESTORATION",
    "SURVEY",
    "GEOLOGICAL_HAZARD",
    "CONSTRUCTION",
)
LICENCE_KINDS = ("LAND_USE", "MINING", "EXPLORATION", "SURVEYING", "GEOLOGICAL")
CATEGORIES = ("BASIC", "TRUSTWORTHY", "DISHONEST")
TIERS = ("MINOR", "GENERAL", "SERIOUS")
RECORD_STATUS = ("PENDING", "PUBLISHED", "RETURNED", "EXPIRED", "REPAIRED")
SANCTION_STATUS = ("ACTIVE", "ENDED", "REPAIRED")
OFFICER_ROLES = ("DIRECTOR", "SUPERVISOR", "MANAGER", "CHAIR")
PROJECT_ROLES = ("BIDDER", "CONTRACTOR", "SUPERVISOR")

# Relation type → allowed (from, to) endpoint kinds and the extra property it needs.
RELATIONS: dict[str, tuple[frozenset[tuple[str, str]], str | None]] = {
    "LEGAL_REPRESENTATIVE_OF": (frozenset({("person", "subject")}), None),
    "SHAREHOLDER_OF": (frozenset({("person", "subject"), ("subject", "subject")}), "share"),
    "OFFICER_OF": (frozenset({("person", "subject")}), "role"),
    "BRANCH_OF": (frozenset({("subject", "subject")}), None),
    "SUCCEEDED_BY": (frozenset({("subject", "subject")}), None),
    "CONTROLS": (frozenset({("person", "subject"), ("subject", "subject")}), None),
    "PARTICIPATES_IN": (frozenset({("subject", "project")}), "role"),
}


# A person is named by their resident ID on their own row and again on each of their relations
# (about six times in the seed); stdnum's birthplace lookup made it a third of validation.
# Bounded, and held only while a load runs: the API never parses exchange rows.
_resident_id = lru_cache(maxsize=1 << 14)(resident_id)
# People's names repeat (a third of the seed's are another person's too): their pinyin keys
# are worked out once.
_name_keys = lru_cache(maxsize=1 << 16)(name_keys)


@dataclass(frozen=True, slots=True)
class Row:
    """A validated row: its kind (which write query) and the parameters for it."""

    kind: str
    params: dict[str, Any]


def _agency(row: Mapping[str, Any], _secret: bytes) -> Row:
    return Row(
        "Agency",
        {
            "key": id_field(row, "code"),
            "props": {
                "name": text_field(row, "name"),
                "level": choice_field(row, "level", LEVELS),
                "division": division_field(row),
            },
        },
    )


def _project(row: Mapping[str, Any], _secret: bytes) -> Row:
    return Row(
        "Project",
        {
            "key": id_field(row, "id"),
            "props": {
                "name": text_field(row, "name"),
                "kind": choice_field(row, "projectKind", PROJECT_KINDS),
                "division": division_field(row),
                "startedOn": date_field(row, "startedOn"),
                "disclosure": disclosure_field(row),
                **provenance(row),
            },
        },
    )


def _contacts(row: Mapping[str, Any]) -> dict[str, list[str]]:
    return {
        "phones": strings_field(row, "phones", 40),
        "addresses": strings_field(row, "addresses"),
        "emails": [e.lower() for e in strings_field(row, "emails", 120)],
    }


def _names(name: str) -> dict[str, str]:
    """Search keys stored beside a name (policies/names.py)."""
    keys = _name_keys(name)
    return {
        "name": name,
        "nameNormalised": keys.normalised,
        "namePinyin": keys.pinyin,
        "nameInitials": keys.initials,
    }


def _subject(row: Mapping[str, Any], _secret: bytes) -> Row:
    return Row(
        "Subject",
        {
            "key": code_field(row.get("creditCode"), "creditCode"),
            "props": {
                **_names(text_field(row, "name")),
                "kind": choice_field(row, "subjectKind", SUBJECT_KINDS),
                "division": division_field(row),
                "status": choice_field(row, "status", SUBJECT_STATUS),
                "registeredOn": date_field(row, "registeredOn"),
                "disclosure": disclosure_field(row),
                **provenance(row),
            },
            **_contacts(row),
        },
    )


def _person(row: Mapping[str, Any], secret: bytes) -> Row:
    raw = row.get("idNumber")
    if not isinstance(raw, str) or not raw:
        raise RowError("missing-field", "field 'idNumber' is required")
    try:
        rid = _resident_id(raw, secret)
    except InvalidIdentifier as exc:
        raise RowError("invalid-resident-id", f"idNumber: {exc}") from None
    return Row(
        "Person",
        {
            "key": rid.key,
            "props": {
                **_names(text_field(row, "name")),
                "idMasked": rid.masked,
                "idNumber": rid.number,
                **provenance(row),
            },
            **_contacts(row),
        },
    )


def _licence(row: Mapping[str, Any], _secret: bytes) -> Row:
    return Row(
        "Licence",
        {
            "key": id_field(row, "id"),
            "holder": code_field(row.get("holder"), "holder"),
            "issuer": id_field(row, "issuer"),
            "props": {
                "kind": choice_field(row, "licenceKind", LICENCE_KINDS),
                "number": text_field(row, "number", limit=100),
                "issuedOn": date_field(row, "issuedOn"),
                "validUntil": date_field(row, "validUntil"),
                "disclosure": disclosure_field(row),
                **provenance(row),
            },
        },
    )


def _record_period(
    item_code: str, category: str, tier: str | None, decided: date | None,
    publish_from: date | None, publish_until: date | None,
) -> date | None:  # fmt: skip
    """A record keeps the catalogue's rules like a submission: a known item of its category, a
    tier the item takes, and publication inside the tier's bounds from the decision date
    (国办发〔2025〕22号). Returns ``publishUntil``."""
    item = default_catalogue().get(item_code)
    if item is None:
        raise RowError("unknown-item", f"{item_code!r} is not an item of the catalogue")
    if category != item.category:
        raise RowError("invalid-value", f"{item_code} is {item.category}, not {category}")
    if item.tiers and tier not in item.tiers:
        raise RowError("invalid-value", f"{item_code} takes a tier among {', '.join(item.tiers)}")
    if not item.tiers and tier is not None:
        raise RowError("invalid-value", f"{item_code} is {category.lower()}: it has no tier")
    if decided is None or not item.tiers:
        return publish_until
    if publish_from is not None and publish_from < decided:
        raise RowError("invalid-period", f"publishFrom {publish_from} is before the decision")
    limit = publication_window(item, tier, decided).until
    if publish_until is None:
        return None
    if limit is None:
        return publish_until
    months = item.tiers[tier or ""].max_months
    return end_in_term("publishUntil", publish_until, "decision", decided, f"{tier}", months, limit)


def _record(row: Mapping[str, Any], _secret: bytes) -> Row:
    category = choice_field(row, "category", CATEGORIES)
    tier = text_field(row, "tier", required=False) or None
    if tier is not None and tier not in TIERS:
        raise RowError("invalid-value", f"tier {tier!r} is not one of {', '.join(TIERS)}")
    if category == "DISHONEST" and tier is None:
        raise RowError("missing-field", "a DISHONEST record needs a tier")
    item = id_field(row, "item")
    decided = date_field(row, "decidedOn", required=True)
    publish_from = date_field(row, "publishFrom")
    until = _record_period(
        item, category, tier, decided, publish_from, date_field(row, "publishUntil")
    )
    return Row(
        "CreditRecord",
        {
            "key": id_field(row, "id"),
            "subject": code_field(row.get("subject"), "subject"),
            "agency": id_field(row, "agency"),
            "props": {
                "item": item,
                "category": category,
                "tier": tier,
                "title": text_field(row, "title"),
                "decidedOn": decided,
                "document": text_field(row, "document", required=False, limit=200) or None,
                "legalBasis": text_field(row, "legalBasis", required=False) or None,
                "publishFrom": publish_from,
                "publishUntil": until,
                "status": choice_field(row, "status", RECORD_STATUS),
                "disclosure": disclosure_field(row, ""),
                "sourceAgency": text_field(row, "agency"),
                "sourceSystem": provenance(row)["sourceSystem"],
            },
        },
    )


def _listing_terms(
    listing: str, carried: list[str], start: date | None, end: date | None
) -> date | None:
    """A listing carries only measures the joint-punishment catalogue attaches to it, and runs
    no longer than its maximum (policies/determination.yaml ``publication``)."""
    allowed = {m.code for m in measures.default_measures().for_listing(listing)}
    if unknown := sorted(set(carried) - allowed):
        raise RowError("invalid-value", f"{listing} carries no measure {', '.join(unknown)}")
    period = determination.default_rules().publication.get(listing)
    if period is None or start is None:
        return end
    limit = add_months(start, period.max_months)
    if end is None:
        return None
    return end_in_term("endDate", end, "start", start, listing, period.max_months, limit)


def _sanction(row: Mapping[str, Any], _secret: bytes) -> Row:
    based_on = row.get("basedOn") or []
    if not isinstance(based_on, list) or not all(isinstance(v, str) for v in based_on):
        raise RowError("invalid-value", "basedOn must be a list of record ids")
    listing = choice_field(row, "listing", LISTINGS)
    measures = strings_field(row, "measures", 64)
    start = date_field(row, "startDate", required=True)
    end = _listing_terms(listing, measures, start, date_field(row, "endDate"))
    return Row(
        "Sanction",
        {
            "key": id_field(row, "id"),
            "subject": code_field(row.get("subject"), "subject"),
            "authority": id_field(row, "authority"),
            "basedOn": based_on,
            "props": {
                "listing": listing,
                "measures": measures,
                "startDate": start,
                "endDate": end,
                "status": choice_field(row, "status", SANCTION_STATUS),
                "disclosure": disclosure_field(row),
                **provenance(row),
            },
        },
    )


def _rating(row: Mapping[str, Any], _secret: bytes) -> Row:
    score = row.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 100:
        raise RowError("invalid-value", "score must be a number from 0 to 100")
    computed = text_field(row, "computedAt", limit=40)
    try:
        computed_at = datetime.fromisoformat(computed)
    except ValueError:
        raise RowError("invalid-date", f"computedAt {computed!r} is not an ISO date-time") from None
    return Row(
        "Rating",
        {
            "key": id_field(row, "id"),
            "subject": code_field(row.get("subject"), "subject"),
            "props": {
                "score": float(score),
                "grade": choice_field(row, "grade", GRADES),
                "modelVersion": text_field(row, "modelVersion", limit=64),
                "computedAt": computed_at,
                "measures": strings_field(row, "measures", 64),
            },
        },
    )


def _endpoint(value: Any, name: str, secret: bytes) -> tuple[str, str]:
    if not isinstance(value, dict) or len(value) != 1:
        raise RowError("invalid-value", f"{name} must name one endpoint, e.g. {{'subject': code}}")
    ((kind, key),) = value.items()
    if kind == "subject":
        return kind, code_field(key, name)
    if kind == "person":
        if not isinstance(key, str):
            raise RowError("invalid-resident-id", f"{name}: a resident ID is required")
        try:
            return kind, _resident_id(key, secret).key
        except InvalidIdentifier as exc:
            raise RowError("invalid-resident-id", f"{name}: {exc}") from None
    if kind == "project":
        return kind, id_field({"id": key}, "id")
    raise RowError("invalid-value", f"{name} endpoint kind {kind!r} is not subject/person/project")


def _relation(row: Mapping[str, Any], secret: bytes) -> Row:
    rel_type = text_field(row, "type", limit=40)
    if rel_type not in RELATIONS:
        raise RowError("invalid-value", f"relation type {rel_type!r} is not known")
    allowed, extra = RELATIONS[rel_type]
    from_kind, from_key = _endpoint(row.get("from"), "from", secret)
    to_kind, to_key = _endpoint(row.get("to"), "to", secret)
    if (from_kind, to_kind) not in allowed:
        raise RowError("invalid-value", f"{rel_type} does not go from {from_kind} to {to_kind}")
    props: dict[str, Any] = {
        "since": date_field(row, "since"),
        "until": date_field(row, "until"),
        **provenance(row),
    }
    if extra == "share":
        share = row.get("share")
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share <= 1:
            raise RowError("invalid-value", "share must be a number in (0, 1]")
        props["share"] = float(share)
    elif extra == "role":
        roles = OFFICER_ROLES if rel_type == "OFFICER_OF" else PROJECT_ROLES
        props["role"] = choice_field(row, "role", roles)
    if rel_type == "CONTROLS":
        props["derived"] = bool(row.get("derived", False))
    return Row(
        f"{rel_type}:{from_kind}:{to_kind}",
        {"from": from_key, "to": to_key, "props": props},
    )


PARSERS: dict[str, Callable[[Mapping[str, Any], bytes], Row]] = {
    "Agency": _agency,
    "Project": _project,
    "Subject": _subject,
    "Person": _person,
    "Licence": _licence,
    "CreditRecord": _record,
    "Sanction": _sanction,
    "Rating": _rating,
    "Relation": _relation,
}


def parse_row(row: Any, secret: bytes) -> Row:
    """Validate one decoded JSON value; raise :class:`RowError` with the reason it is refused."""
    if not isinstance(row, dict):
        raise RowError("invalid-value", "a line must be a JSON object")
    kind = row.get("kind")
    parser = PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise RowError("unknown-kind", f"kind {kind!r} is not one of {', '.join(PARSERS)}")
    return parser(row, secret)
