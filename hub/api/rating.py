"""The ``Rating`` type: a subject's grade, how it was reached, what it brings and since when.

The grade, score, consequences and history are public; the breakdown names only what the caller
may read (policies/credit/rating.py ``explain``).
A term-limited consequence (the two-year inspection
exemption) is shown with its last day, counted from the start of the subject's current unbroken
run in the class, and is gone once that day has passed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from graph.rating import history_of
from hub.api.context import to_datetime
from policies.access import ReadScope
from policies.credit.rating import (
    Consequence,
    Contribution,
    RatingModel,
    Source,
    explain,
    last_day,
)
from policies.credit.rating_file import default_model


@strawberry.enum(description="The nine grades, best first: classes A (AAA AA A), B, C.")
class Grade(Enum):
    AAA = "AAA"
    AA = "AA"
    A = "A"
    BBB = "BBB"
    BB = "BB"
    B = "B"
    CCC = "CCC"
    CC = "CC"
    C = "C"


@strawberry.type(description="One indicator's share of a score.")
class RatingContribution:
    code: str
    name: str
    kind: str = strawberry.field(description="qualitative or quantitative")
    input: str = strawberry.field(description="The value the indicator read, as JSON.")
    points: float


@strawberry.type(
    name="Consequence",
    description="What a grade class (or an active listing) brings the subject.",
)
class ConsequenceView:
    code: str
    name: str = strawberry.field(description="In the seed's words.")
    partner_kinds: list[str] = strawberry.field(
        description="Partner kinds whose duties it sets; they hear of it as `rating.changed`."
    )
    until: date | None = strawberry.field(
        description="Its last day, for one with a term (the two-year inspection exemption)."
    )


@strawberry.type(description="A grade and the day it took effect.")
class GradeHistoryEntry:
    grade: Grade
    effective_from: date
    model_version: str


@dataclass(frozen=True, slots=True)
class RatingTerms:
    """What the stored consequences and grade history say on a day."""

    codes: list[str]
    consequences: list[ConsequenceView]
    history: list[GradeHistoryEntry]
    exempt_until: date | None


def _explanation(root: Rating) -> list[RatingContribution]:
    return root.explained()


def _codes(root: Rating) -> list[str]:
    return root.terms().codes


def _consequences(root: Rating) -> list[ConsequenceView]:
    return root.terms().consequences


def _history(root: Rating) -> list[GradeHistoryEntry]:
    return root.terms().history


def _exempt_until(root: Rating) -> date | None:
    return root.terms().exempt_until


@strawberry.type(description="The subject's current credit grade on the nine-grade scale.")
class Rating:
    grade: Grade
    score: float
    model_version: str
    computed_at: datetime | None
    consequence_codes: list[str] = strawberry.field(
        description="Codes of the grade's consequences (`consequences` names them).",
        resolver=_codes,
    )
    measures: list[str] = strawberry.field(
        description="Codes of the grade's consequences.",
        deprecation_reason="These are grade consequences, not sanction measures: use "
        "consequenceCodes, or consequences for their names.",
        resolver=_codes,
    )
    uncapped_grade: Grade | None = strawberry.field(
        description="The grade the score alone gives, before the caps of active listings."
    )
    caps: list[str] = strawberry.field(description="Active listings that lowered the grade.")

    explanation: list[RatingContribution] = strawberry.field(
        description="Each indicator's points and the value it read; base + points = score.",
        resolver=_explanation,
    )

    consequences: list[ConsequenceView] = strawberry.field(
        description="What the grade brings now; a term-limited one is gone after its last day.",
        resolver=_consequences,
    )
    history: list[GradeHistoryEntry] = strawberry.field(
        description="Every grade with the day it took effect, oldest first; an entry only when "
        "the grade changed.",
        resolver=_history,
    )
    exempt_until: date | None = strawberry.field(
        description="Last day of the two-year inspection exemption: two years from the first "
        "day of the current unbroken run in class A; null outside class A (losing A ends it).",
        resolver=_exempt_until,
    )
    # Parsing and filtering the stored contributions was a fifth of the API's CPU a subject in a
    # batch lookup (profiled), the consequences and history a seventh more: each is worked out
    # only when a query selects it (once for all its fields).
    explained: strawberry.Private[Callable[[], list[RatingContribution]]]
    terms: strawberry.Private[Callable[[], RatingTerms]]


def _contribution(raw: dict[str, Any]) -> Contribution:
    """A stored contribution; one stored before its sources were kept counts as unreadable."""
    sources = raw.get("sources")
    return Contribution(
        raw["code"],
        raw["name"],
        raw["kind"],
        raw["input"],
        raw["points"],
        tuple(Source(**x) for x in sources) if sources is not None else (_UNKNOWN_SOURCE,),
    )


_UNKNOWN_SOURCE = Source("CONFIDENTIAL", None)


def _stored(row: dict[str, Any], model: RatingModel) -> list[Consequence]:
    """The consequences as stored; an imported rating keeps codes only, named by the model."""
    if row.get("consequences"):
        return [
            Consequence(c["code"], c["name"], tuple(c.get("partnerKinds") or ()))
            for c in json.loads(row["consequences"])
        ]
    known = [(code, model.consequence(code)) for code in row.get("measures") or []]
    return [found or Consequence(code, code) for code, found in known]


def rating_view(row: dict[str, Any], access: ReadScope, division: str, today: date) -> Rating:
    """The rating as the caller may see it, on ``today`` (a lapsed term is not shown)."""
    model = default_model()

    def explained() -> list[RatingContribution]:
        contributions = explain(
            [_contribution(c) for c in json.loads(row.get("contributions") or "[]")],
            lambda source: access.readable(source.disclosure, division, source.owner),
        )
        return [
            RatingContribution(
                code=c.code,
                name=c.name,
                kind=c.kind,
                input=json.dumps(c.input, ensure_ascii=False),
                points=c.points,
            )
            for c in contributions
        ]

    worked_out: list[RatingTerms] = []

    def terms() -> RatingTerms:
        # Once for all the fields that ask (functools.cache cost more to make than it saved).
        if not worked_out:
            worked_out.append(_terms(row, model, today))
        return worked_out[0]

    return Rating(
        grade=Grade(row["grade"]),
        score=row["score"],
        model_version=row["modelVersion"],
        computed_at=to_datetime(row.get("computedAt")),
        uncapped_grade=Grade(row["uncappedGrade"]) if row.get("uncappedGrade") else None,
        caps=row.get("caps") or [],
        explained=explained,
        terms=terms,
    )


def _terms(row: dict[str, Any], model: RatingModel, today: date) -> RatingTerms:
    history = history_of(row)
    stored = _stored(row, model)
    terms = {c.code: last_day(d, history) for c in stored if (d := model.consequence(c.code))}
    exempt = [day for day in terms.values() if day is not None]
    return RatingTerms(
        codes=[c.code for c in stored],
        consequences=[
            ConsequenceView(
                code=c.code,
                name=c.name,
                partner_kinds=list(c.partners),
                until=terms.get(c.code),
            )
            for c in stored
            if (until := terms.get(c.code)) is None or until >= today
        ],
        history=[
            GradeHistoryEntry(
                grade=Grade(h.grade), effective_from=h.effective_from, model_version=h.model_version
            )
            for h in history
        ],
        exempt_until=min(exempt, default=None),
    )
