"""Graph rows of a subject lookup onto the API's subject types, and what each row released."""

from __future__ import annotations

from datetime import date
from typing import Any

from hub.api.context import to_date
from hub.api.rating import Grade, rating_view
from hub.api.records.types import record_view, released_ids, restriction_view
from hub.api.subjects.types import (
    Contacts,
    Division,
    Licence,
    Person,
    ProjectRole,
    Sanction,
    Subject,
    SubjectKind,
    SubjectSummary,
)
from policies.access import ReadScope
from policies.divisions import find_division


def division_view(code: str) -> Division:
    found = find_division(code)
    return Division(code=code, name=found.name if found else None)


def released_by(row: dict[str, Any]) -> tuple[str, ...]:
    """What a lookup handed out, for the audit: rows by id, and fields above PUBLIC by name."""
    ids = [
        item["id"]
        for part in ("sanctions", "restrictions", "licences", "projects")
        for item in row.get(part) or []
    ]
    ids += [i for r in row.get("records") or [] for i in released_ids(r)]
    rep = row.get("legalRepresentative") or {}
    fields = [f"legalRepresentative.{f}" for f in ("idMasked", "idNumber") if rep.get(f)]
    if row.get("contacts"):
        fields.append("contacts")
    return (row["creditCode"], *ids, *fields)


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    """What a subject shows in a list and in full alike."""
    return {
        "credit_code": row["creditCode"],
        "name": row["name"],
        "kind": SubjectKind(row["kind"]),
        "division": division_view(row["division"]),
        "status": row["status"],
        "grade": Grade(row["grade"]) if row.get("grade") else None,
    }


def _person(rep: dict[str, Any], readable: frozenset[str]) -> Person:
    return Person(
        name=rep["name"],
        since=to_date(rep.get("since")),
        readable=readable,
        masked=rep.get("idMasked"),
        number=rep.get("idNumber"),
    )


def sanction_view(x: dict[str, Any]) -> Sanction:
    return Sanction(
        id=x["id"],
        listing=x["listing"],
        measures=x.get("measures") or [],
        start_date=to_date(x.get("startDate")),
        end_date=to_date(x.get("endDate")),
        status=x["status"],
        authority=x.get("authority"),
        under_objection=bool(x.get("underObjection")),
    )


def _licence(lc: dict[str, Any]) -> Licence:
    return Licence(
        id=lc["id"],
        kind=lc["kind"],
        number=lc["number"],
        issued_on=to_date(lc.get("issuedOn")),
        valid_until=to_date(lc.get("validUntil")),
    )


def _project(p: dict[str, Any]) -> ProjectRole:
    return ProjectRole(
        id=p["id"],
        name=p["name"],
        kind=p["kind"],
        division=division_view(p["division"]),
        started_on=to_date(p.get("startedOn")),
        role=p["role"],
    )


def subject_view(row: dict[str, Any], access: ReadScope) -> Subject:
    """The subject as the caller may see it; the graph already left out what it may not."""
    rep, rating, contacts = row.get("legalRepresentative"), row.get("rating"), row.get("contacts")
    readable = frozenset(row["readable"])
    return Subject(
        **_listed(row),
        registered_on=to_date(row.get("registeredOn")),
        legal_representative=_person(rep, readable) if rep else None,
        rating=rating_view(rating, access, row["division"], date.today()) if rating else None,
        records=[record_view(r) for r in row.get("records") or []],
        restrictions=[restriction_view(x) for x in row.get("restrictions") or []],
        sanctions=[sanction_view(x) for x in row.get("sanctions") or []],
        licences=[_licence(lc) for lc in row.get("licences") or []],
        projects=[_project(p) for p in row.get("projects") or []],
        readable=readable,
        contact_data=Contacts(**contacts) if contacts else None,
    )


def summary_view(row: dict[str, Any]) -> SubjectSummary:
    return SubjectSummary(**_listed(row))
