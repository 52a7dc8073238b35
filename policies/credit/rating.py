"""The nine-grade credit rating model (rating.yaml): indicators, score bands, caps, consequences.

Every rating keeps the model version, its inputs and each indicator's points, so a grade can be
explained and reproduced. Operators tune the numbers in the YAML; loading validates every key
and names the entry that is wrong, and refuses a model in which class A can be reached without
positive evidence. Rating itself is pure: same inputs and day, same result. So is the grade
history: which grade took effect when, and how long a term-limited consequence (the two-year
inspection exemption) lasts. The model is read from rating.yaml by policies/credit/rating_file.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from policies.credit.catalogue import add_months

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")  # best first
CLASSES = ("A", "B", "C")  # a grade's class is its first letter
STATUSES = ("ACTIVE", "REVOKED", "CANCELLED")
KINDS = ("qualitative", "quantitative")
READS = ("status", "years_clean", "licences", "projects", "records")
DAYS_PER_MONTH = 30.4375  # 365.25 / 12


@dataclass(frozen=True, slots=True)
class Source:
    """Whose row a contribution read: its disclosure class and owning unit. A caller is shown
    a contribution only when it may read every row behind it (:func:`explain`)."""

    disclosure: str
    owner: str | None


@dataclass(frozen=True, slots=True)
class RecordFact:
    """One published, in-force credit record of the subject."""

    item: str
    category: str
    tier: str | None
    decided_on: date
    source: Source = Source("PUBLIC", None)


@dataclass(frozen=True, slots=True)
class RatingInputs:
    """Everything a rating reads, stored with it so the grade can be reproduced."""

    status: str
    registered_on: date | None
    records: tuple[RecordFact, ...]
    listings: tuple[str, ...]
    licences: tuple[Source, ...]
    projects: tuple[Source, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "registeredOn": self.registered_on.isoformat() if self.registered_on else None,
            "records": [
                {
                    "item": r.item,
                    "category": r.category,
                    "tier": r.tier,
                    "decidedOn": r.decided_on.isoformat(),
                }
                for r in self.records
            ],
            "listings": list(self.listings),
            "licences": len(self.licences),
            "projects": len(self.projects),
        }


@dataclass(frozen=True, slots=True)
class Contribution:
    """One indicator's share of the score, with the value it read."""

    code: str
    name: str
    kind: str
    input: Any
    points: float
    sources: tuple[Source, ...] = ()  # rows above the subject's own public fields it read


WITHHELD = Contribution("WITHHELD", "其他非公开信息", "withheld", None, 0.0)


def explain(
    contributions: Collection[Contribution], readable: Callable[[Source], bool]
) -> list[Contribution]:
    """The breakdown a caller may see: every contribution whose rows it may all read, and the
    points of the rest as one ``WITHHELD`` line that names neither their count, tier nor dates
    (its points are what the public score already implies: score = base + all points)."""
    shown = [c for c in contributions if all(readable(s) for s in c.sources)]
    hidden = [c for c in contributions if c not in shown]
    if not hidden:
        return shown
    points = _round(sum(c.points for c in hidden))
    return [*shown, replace(WITHHELD, points=points)]


@dataclass(frozen=True, slots=True)
class Consequence:
    """What a grade class (or an active listing) brings, in the seed's words."""

    code: str
    name: str
    partners: tuple[str, ...] = ()  # partner kinds whose duties it sets (measures.yaml)
    term_months: int | None = None  # lapses this long after the class run began

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "partnerKinds": list(self.partners)}


@dataclass(frozen=True, slots=True)
class RatingResult:
    model_version: str
    score: float
    grade: str
    uncapped_grade: str
    caps: tuple[str, ...]
    contributions: tuple[Contribution, ...]
    consequences: tuple[Consequence, ...]

    def consequence_codes(self) -> list[str]:
        return [c.code for c in self.consequences]


@dataclass(frozen=True, slots=True)
class Consequences:
    classes: dict[str, tuple[Consequence, ...]]  # by grade class A, B, C
    listings: dict[str, tuple[Consequence, ...]]  # added while the listing is active


@dataclass(frozen=True, slots=True)
class Indicator:
    """One scoring rule from the file; its points are shown to explain the grade."""

    code: str
    name: str
    kind: str
    reads: str
    points: float | dict[str, float]  # per unit counted, or by status or tier
    min: float | None = None
    max: float | None = None
    category: str | None = None
    items: frozenset[str] | None = None  # None: every item of the category
    half_life_months: float | None = None  # None: records keep their full weight
    evidence: bool = False  # positive evidence of trustworthiness: may lift into class A

    def measure(self, inputs: RatingInputs, today: date) -> tuple[Any, float, tuple[Source, ...]]:
        """The value read, the points it gives before bounds, and the rows it read."""
        if self.reads == "status":
            return inputs.status, self._weight(inputs.status), ()
        if self.reads == "records":
            chosen = [
                r
                for r in inputs.records
                if r.category == self.category and (self.items is None or r.item in self.items)
            ]
            weighted = sum(self._weight(r.tier) * self._decay(r.decided_on, today) for r in chosen)
            value = {"records": len(chosen), "weighted": _round(weighted)}
            return value, weighted, tuple(r.source for r in chosen)
        if self.reads == "years_clean":
            years = _full_years(_clean_since(inputs), today)
            return years, (years or 0) * self._weight(None), ()
        rows = inputs.licences if self.reads == "licences" else inputs.projects
        return len(rows), len(rows) * self._weight(None), rows

    def most(self) -> float:
        """The most points this indicator can give: per status or tier the best weight, per
        unit counted unbounded unless the weight is not positive or a ``max`` holds it."""
        if isinstance(self.points, dict):
            best = max(self.points.values())
        else:
            best = 0.0 if self.points <= 0 else float("inf")
        return best if self.max is None else min(best, self.max)

    def bound(self, points: float) -> float:
        if self.min is not None:
            points = max(points, self.min)
        if self.max is not None:
            points = min(points, self.max)
        return points

    def _weight(self, key: str | None) -> float:
        if not isinstance(self.points, dict):
            return self.points
        if key is None or key not in self.points:
            raise ValueError(f"{self.code}: no points for {key!r}")
        return self.points[key]

    def _decay(self, decided_on: date, today: date) -> float:
        if self.half_life_months is None:
            return 1.0
        age_months = max(0, (today - decided_on).days) / DAYS_PER_MONTH
        return float(0.5 ** (age_months / self.half_life_months))


@dataclass(frozen=True)
class RatingModel:
    version: str
    base: float
    bands: tuple[tuple[str, float], ...]  # (grade, floor), best first
    caps: dict[str, str]  # listing -> best grade allowed while it is active
    indicators: tuple[Indicator, ...]
    consequences: Consequences

    def grade_for(self, score: float) -> str:
        return next(grade for grade, floor in self.bands if score >= floor)

    @property
    def neutral_grade(self) -> str:
        """The grade of a subject about which nothing is known: the base score's."""
        return self.grade_for(self.base)

    def consequence(self, code: str) -> Consequence | None:
        every = [*self.consequences.classes.values(), *self.consequences.listings.values()]
        return next((c for group in every for c in group if c.code == code), None)

    def partners_to_tell(self, before: Collection[str], after: Collection[str]) -> tuple[str, ...]:
        """The partner kinds whose duties change when a subject's consequences go from
        ``before`` to ``after`` (codes): the kinds of every consequence gained or lost."""
        changed = set(before) ^ set(after)
        found = (self.consequence(code) for code in changed)
        return tuple(sorted({k for c in found if c is not None for k in c.partners}))

    def rate(self, inputs: RatingInputs, today: date) -> RatingResult:
        """Rate as of `today` (records decay with age), so a stored rating can be recomputed."""
        contributions = []
        for indicator in self.indicators:
            value, points, sources = indicator.measure(inputs, today)
            contributions.append(
                Contribution(
                    indicator.code,
                    indicator.name,
                    indicator.kind,
                    value,
                    _round(indicator.bound(points)),
                    tuple(dict.fromkeys(sources)),  # which classes and owners, not how many
                )
            )
        total = self.base + sum(c.points for c in contributions)
        score = _round(min(100.0, max(0.0, total)))
        uncapped = self.grade_for(score)
        caps = tuple(
            listing
            for listing, cap in self.caps.items()
            if listing in inputs.listings and GRADES.index(cap) > GRADES.index(uncapped)
        )
        grade = max((self.caps[c] for c in caps), key=GRADES.index, default=uncapped)
        consequences = self.consequences.classes[grade[0]] + tuple(
            c
            for listing, added in self.consequences.listings.items()
            if listing in inputs.listings
            for c in added
        )
        return RatingResult(
            model_version=self.version,
            score=score,
            grade=grade,
            uncapped_grade=uncapped,
            caps=caps,
            contributions=tuple(contributions),
            # A measure named twice (by the class and a listing) is one measure.
            consequences=tuple({c.code: c for c in consequences}.values()),
        )


@dataclass(frozen=True, slots=True)
class GradeChange:
    """One entry of a subject's grade history: a grade and the day it took effect."""

    grade: str
    effective_from: date
    model_version: str

    def as_dict(self) -> dict[str, str]:
        return {
            "grade": self.grade,
            "effectiveFrom": self.effective_from.isoformat(),
            "modelVersion": self.model_version,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, str]) -> GradeChange:
        return cls(raw["grade"], date.fromisoformat(raw["effectiveFrom"]), raw["modelVersion"])


def advance(
    history: tuple[GradeChange, ...], grade: str, version: str, today: date
) -> tuple[GradeChange, ...]:
    """The history after a rating: only a change of grade adds an entry."""
    if history and history[-1].grade == grade:
        return history
    return (*history, GradeChange(grade, today, version))


def class_since(history: tuple[GradeChange, ...]) -> date | None:
    """The day the current unbroken run in the latest grade's class began."""
    if not history:
        return None
    since = history[-1].effective_from
    for change in reversed(history):
        if change.grade[0] != history[-1].grade[0]:
            break
        since = change.effective_from
    return since


def last_day(consequence: Consequence, history: tuple[GradeChange, ...]) -> date | None:
    """The last day a term-limited consequence applies: its term counted from the start of the
    current unbroken run in the class (None: no term). Losing the class ends it at once."""
    since = class_since(history)
    if consequence.term_months is None or since is None:
        return None
    return add_months(since, consequence.term_months) - timedelta(days=1)


def _round(value: float) -> float:
    return round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _clean_since(inputs: RatingInputs) -> date | None:
    """Registration, or the decision of the latest dishonest record in force, if later."""
    days = [r.decided_on for r in inputs.records if r.category == "DISHONEST"]
    if inputs.registered_on is not None:
        days.append(inputs.registered_on)
    return max(days, default=None)


def _full_years(since: date | None, today: date) -> int | None:
    if since is None:
        return None
    years = today.year - since.year - ((today.month, today.day) < (since.month, since.day))
    return max(0, years)
