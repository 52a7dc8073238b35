"""Validation of exchange-file rows (docs/data-format.md) into write parameters.

Pure functions: a row is either turned into the parameters its Cypher needs, or refused with a
:class:`RowError` whose ``reason`` is a stable word and whose message says what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from graph.identifiers import InvalidIdentifier, resident_id, validate_uscc
from policies.credit.catalogue import add_months, default_catalogue, publication_window
from policies.credit.determination import default_rules as determination_rules
from policies.credit.listings import LISTINGS
from policies.credit.measures import default_measures
from policies.names import name_keys

DISCLOSURE = ("PUBLIC", "SHARED", "RESTRICTED", "CONFIDENTIAL")
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

_DIVISION = re.compile(r"^15\d{4}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")


class RowError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Row:
    """A validated row: its kind (which write query) and the parameters for it."""

    kind: str
    params: dict[str, Any]


def _text(row: Mapping[str, Any], name: str, *, required: bool = True, limit: int = 500) -> str:
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise RowError("missing-field", f"field {name!r} is required")
        return ""
    if not isinstance(value, str):
        raise RowError("invalid-value", f"field {name!r} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise RowError("invalid-value", f"field {name!r} is longer than {limit} characters")
    return value


def _choice(row: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str = "") -> str:
    value = _text(row, name, required=not default) or default
    if value not in allowed:
        raise RowError("invalid-value", f"{name} {value!r} is not one of {', '.join(allowed)}")
    return value


def _date(row: Mapping[str, Any], name: str, *, required: bool = False) -> date | None:
    value = _text(row, name, required=required, limit=10)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError("invalid-date", f"{name} {value!r} is not a YYYY-MM-DD date") from None


def _id(row: Mapping[str, Any], name: str) -> str:
    value = _text(row, name, limit=64)
    if not _ID.match(value):
        raise RowError("invalid-value", f"{name} {value!r} must be 1-64 letters, digits, _.:-")
    return value


def _division(row: Mapping[str, Any]) -> str:
    value = _text(row, "division", limit=6)
    if not _DIVISION.match(value):
        raise RowError("invalid-value", f"division {value!r} is not a 6-digit code of region 15")
    return value


def _credit_code(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise RowError("missing-field", f"field {name!r} must be a credit code")
    try:
        return validate_uscc(value)
    except InvalidIdentifier as exc:
        raise RowError("invalid-credit-code", f"{name}: {exc}") from None


def _strings(row: Mapping[str, Any], name: str, limit: int = 200) -> list[str]:
    value = row.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RowError("invalid-value", f"field {name!r} must be a list of strings")
    cleaned = [v.strip() for v in value if v.strip()]
    if any(len(v) > limit for v in cleaned):
        raise RowError("invalid-value", f"an entry of {name!r} is longer than {limit} characters")
    return sorted(set(cleaned))


def _provenance(row: Mapping[str, Any]) -> dict[str, Any]:
    source = row.get("source") or {}
    if not isinstance(source, dict):
        raise RowError("invalid-value", "source must be an object")
    decided = _date(source, "decidedOn")
    return {
        "sourceAgency": _text(source, "agency", required=False, limit=32) or None,
        "sourceDocument": _text(source, "document", required=False, limit=200) or None,
        "sourceSystem": _text(source, "system", required=False, limit=64) or None,
        "decidedOn": decided,
    }


def _disclosure(row: Mapping[str, Any], default: str = "PUBLIC") -> str:
    return _choice(row, "disclosure", DISCLOSURE, default)


def _agency(row: Mapping[str, Any], _secret: bytes) -> Row:
    return Row(
        "Agency",
        {
            "key": _id(row, "code"),
            "props": {
                "name": _text(row, "name"),
                "level": _choice(row, "level", LEVELS),
                "division": _division(row),
            },
        },
    )


def _project(row: Mapping[str, Any], _secret: bytes) -> Row:
    return Row(
        "Project",
        {
            "key": _id(row, "id"),
            "props": {
                "name": _text(row, "name"),
                "kind": _choice(row, "projectKind", PROJECT_KINDS),
                "division": _division(row),
                "startedOn": _date(row, "startedOn"),
                "disclosure": _disclosure(row),
                **_provenance(row),
            },
        },
    )


def _contacts(row: Mapping[str, Any]) -> dict[str, list[str]]:
    return {
        "phones": _strings(row, "phones", 40),
        "addresses": _strings(row, "addresses"),
        "emails": [e.lower() for e in _strings(row, "emails", 120)],
    }


def _names(name: str) -> dict[str, str]:
    """Search keys stored beside a name (policies/names.py)."""
    keys = name_keys(name)
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
            "key": _credit_code(row.get("creditCode"), "creditCode"),
            "props": {
                **_names(_text(row, "name")),
                "kind": _choice(row, "subjectKind", SUBJECT_KINDS),
                "division": _division(row),
                "status": _choice(row, "status", SUBJECT_STATUS),
                "registeredOn": _date(row, "registeredOn"),
                "disclosure": _disclosure(row),
                **_provenance(row),
            },
            **_contacts(row),
        },
    )


def _person(row: Mapping[str, Any], secret: bytes) -> Row:
    raw = row.get("idNumber")
    if not isinstance(raw, str) or not raw:
        raise RowError("missing-field", "field 'idNumber' is required")
    try:
        rid = resident_id(raw, secret)
    except InvalidIdentifier as exc:
        raise RowError("invalid-resident-id", f"idNumber: {exc}") from None
    return Row(
        "Person",
        {
            "key": rid.key,
            "props": {
                **_names(_text(row, "name")),
                "idMasked": rid.masked,
                "idNumber": rid.number,
                **_provenance(row),
            },
            **_contacts(row),
        },
    )


def _licence(row: Mapping[str, Any], _secret: bytes) -> Row:
    return Row(
        "Licence",
        {
            "key": _id(row, "id"),
            "holder": _credit_code(row.get("holder"), "holder"),
            "issuer": _id(row, "issuer"),
            "props": {
                "kind": _choice(row, "licenceKind", LICENCE_KINDS),
                "number": _text(row, "number", limit=100),
                "issuedOn": _date(row, "issuedOn"),
                "validUntil": _date(row, "validUntil"),
                "disclosure": _disclosure(row),
                **_provenance(row),
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
    if limit is not None and not decided <= publish_until <= limit:
        months = item.tiers[tier or ""].max_months
        raise RowError(
            "invalid-period",
            f"publishUntil {publish_until} is outside the decision {decided} and the {tier} "
            f"maximum of {months} months ({limit})",
        )
    return publish_until


def _record(row: Mapping[str, Any], _secret: bytes) -> Row:
    category = _choice(row, "category", CATEGORIES)
    tier = _text(row, "tier", required=False) or None
    if tier is not None and tier not in TIERS:
        raise RowError("invalid-value", f"tier {tier!r} is not one of {', '.join(TIERS)}")
    if category == "DISHONEST" and tier is None:
        raise RowError("missing-field", "a DISHONEST record needs a tier")
    item = _id(row, "item")
    decided = _date(row, "decidedOn", required=True)
    publish_from = _date(row, "publishFrom")
    until = _record_period(item, category, tier, decided, publish_from, _date(row, "publishUntil"))
    return Row(
        "CreditRecord",
        {
            "key": _id(row, "id"),
            "subject": _credit_code(row.get("subject"), "subject"),
            "agency": _id(row, "agency"),
            "props": {
                "item": item,
                "category": category,
                "tier": tier,
                "title": _text(row, "title"),
                "decidedOn": decided,
                "document": _text(row, "document", required=False, limit=200) or None,
                "legalBasis": _text(row, "legalBasis", required=False) or None,
                "publishFrom": publish_from,
                "publishUntil": until,
                "status": _choice(row, "status", RECORD_STATUS),
                "disclosure": _disclosure(row, ""),
                "sourceAgency": _text(row, "agency"),
                "sourceSystem": _provenance(row)["sourceSystem"],
            },
        },
    )


def _listing_terms(
    listing: str, measures: list[str], start: date | None, end: date | None
) -> date | None:
    """A listing carries only measures the joint-punishment catalogue attaches to it, and runs
    no longer than its maximum (policies/determination.yaml ``publication``)."""
    allowed = {m.code for m in default_measures().for_listing(listing)}
    if unknown := sorted(set(measures) - allowed):
        raise RowError("invalid-value", f"{listing} carries no measure {', '.join(unknown)}")
    period = determination_rules().publication.get(listing)
    if period is None or start is None:
        return end
    limit = add_months(start, period.max_months)
    if end is None:
        return None
    if not start <= end <= limit:
        raise RowError(
            "invalid-period",
            f"endDate {end} is outside the start {start} and the {listing} maximum of "
            f"{period.max_months} months ({limit})",
        )
    return end


def _sanction(row: Mapping[str, Any], _secret: bytes) -> Row:
    based_on = row.get("basedOn") or []
    if not isinstance(based_on, list) or not all(isinstance(v, str) for v in based_on):
        raise RowError("invalid-value", "basedOn must be a list of record ids")
    listing = _choice(row, "listing", LISTINGS)
    measures = _strings(row, "measures", 64)
    start = _date(row, "startDate", required=True)
    end = _listing_terms(listing, measures, start, _date(row, "endDate"))
    return Row(
        "Sanction",
        {
            "key": _id(row, "id"),
            "subject": _credit_code(row.get("subject"), "subject"),
            "authority": _id(row, "authority"),
            "basedOn": based_on,
            "props": {
                "listing": listing,
                "measures": measures,
                "startDate": start,
                "endDate": end,
                "status": _choice(row, "status", SANCTION_STATUS),
                "disclosure": _disclosure(row),
                **_provenance(row),
            },
        },
    )


def _rating(row: Mapping[str, Any], _secret: bytes) -> Row:
    score = row.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 100:
        raise RowError("invalid-value", "score must be a number from 0 to 100")
    computed = _text(row, "computedAt", limit=40)
    try:
        computed_at = datetime.fromisoformat(computed)
    except ValueError:
        raise RowError("invalid-date", f"computedAt {computed!r} is not an ISO date-time") from None
    return Row(
        "Rating",
        {
            "key": _id(row, "id"),
            "subject": _credit_code(row.get("subject"), "subject"),
            "props": {
                "score": float(score),
                "grade": _choice(row, "grade", GRADES),
                "modelVersion": _text(row, "modelVersion", limit=64),
                "computedAt": computed_at,
                "measures": _strings(row, "measures", 64),
            },
        },
    )


def _endpoint(value: Any, name: str, secret: bytes) -> tuple[str, str]:
    if not isinstance(value, dict) or len(value) != 1:
        raise RowError("invalid-value", f"{name} must name one endpoint, e.g. {{'subject': code}}")
    ((kind, key),) = value.items()
    if kind == "subject":
        return kind, _credit_code(key, name)
    if kind == "person":
        if not isinstance(key, str):
            raise RowError("invalid-resident-id", f"{name}: a resident ID is required")
        try:
            return kind, resident_id(key, secret).key
        except InvalidIdentifier as exc:
            raise RowError("invalid-resident-id", f"{name}: {exc}") from None
    if kind == "project":
        return kind, _id({"id": key}, "id")
    raise RowError("invalid-value", f"{name} endpoint kind {kind!r} is not subject/person/project")


def _relation(row: Mapping[str, Any], secret: bytes) -> Row:
    rel_type = _text(row, "type", limit=40)
    if rel_type not in RELATIONS:
        raise RowError("invalid-value", f"relation type {rel_type!r} is not known")
    allowed, extra = RELATIONS[rel_type]
    from_kind, from_key = _endpoint(row.get("from"), "from", secret)
    to_kind, to_key = _endpoint(row.get("to"), "to", secret)
    if (from_kind, to_kind) not in allowed:
        raise RowError("invalid-value", f"{rel_type} does not go from {from_kind} to {to_kind}")
    props: dict[str, Any] = {
        "since": _date(row, "since"),
        "until": _date(row, "until"),
        **_provenance(row),
    }
    if extra == "share":
        share = row.get("share")
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share <= 1:
            raise RowError("invalid-value", "share must be a number in (0, 1]")
        props["share"] = float(share)
    elif extra == "role":
        roles = OFFICER_ROLES if rel_type == "OFFICER_OF" else PROJECT_ROLES
        props["role"] = _choice(row, "role", roles)
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
