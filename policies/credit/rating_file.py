"""Reads rating.yaml into a rating model: every key checked, and class A kept for evidence.

Loading names the entry that is wrong and refuses a model in which a subject could reach class
A without positive evidence of trustworthiness (:func:`_earned`): the rule the model rests on.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from itertools import pairwise
from typing import Any

from policies.credit.catalogue import CATEGORIES, TIER_BOUNDS, default_catalogue
from policies.credit.listings import LISTINGS
from policies.credit.measures import default_measures
from policies.credit.rating import (
    CLASSES,
    GRADES,
    KINDS,
    READS,
    STATUSES,
    Consequence,
    Consequences,
    Indicator,
    RatingModel,
)
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, mapping, parse
from policies.values import nonempty_text

RATING_FILE = POLICY_DIR / "rating.yaml"
# `schema` numbers the file's format; `version` names the model, kept with every rating.
SHAPE = Shape({"version", "base", "bands", "caps", "indicators", "consequences"}, version="schema")


def _number(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise PolicyError(f"{where}: must be a number")
    return float(value)


def _weights(
    raw: Any, where: str, required: Collection[str], allowed: Collection[str], noun: str
) -> dict[str, float]:
    """Points by status or tier: every key needed, none unknown."""
    entries = mapping(raw, where, required, allowed, noun)
    return {k: _number(v, f"{where}.{k}") for k, v in entries.items()}


def _bands(raw: Any) -> tuple[tuple[str, float], ...]:
    entries = mapping(raw, "bands", GRADES, noun="grade")
    bands = tuple((g, _number(entries[g], f"bands.{g}")) for g in GRADES)
    for (better, high), (grade, low) in pairwise(bands):
        if not low < high:
            raise PolicyError(f"bands.{grade}: floor {low:g} must be below {better}'s {high:g}")
    if bands[0][1] > 100 or bands[-1][1] != 0:
        raise PolicyError("bands: floors must lie within 0..100, with C at 0")
    return bands


def _caps(raw: Any) -> dict[str, str]:
    entries = mapping(raw, "caps", (), LISTINGS, noun="listing")
    for listing, grade in entries.items():
        if grade not in GRADES:
            raise PolicyError(f"caps.{listing}: {grade!r} is not a grade")
    return dict(entries)


def _consequence(code: Any, raw: Any, where: str, term: bool) -> Consequence:
    where = f"{where}.{code}"
    entries = mapping(raw, where, {"name"}, {"partners", "term_months"} if term else {"partners"})
    partners = entries.get("partners") or []
    kinds = default_measures().partner_kinds
    if not isinstance(partners, list) or any(k not in kinds for k in partners):
        raise PolicyError(f"{where}.partners: a list of {', '.join(kinds)}")
    months = entries.get("term_months")
    if months is not None and (type(months) is not int or months < 1):
        raise PolicyError(f"{where}.term_months: a whole number of months, at least 1")
    return Consequence(
        nonempty_text(code, where),
        nonempty_text(entries["name"], f"{where}.name"),
        tuple(partners),
        months,
    )


def _consequence_list(raw: Any, where: str, term: bool) -> tuple[Consequence, ...]:
    if not isinstance(raw, dict) or not raw:
        raise PolicyError(f"{where}: map consequence codes to entries")
    return tuple(_consequence(c, entry, where, term) for c, entry in raw.items())


def _consequences(raw: Any) -> Consequences:
    entries = mapping(raw, "consequences", {"classes"}, {"listings"})
    classes = mapping(entries["classes"], "consequences.classes", CLASSES, noun="class")
    listings = mapping(
        entries.get("listings") or {}, "consequences.listings", (), LISTINGS, "listing"
    )
    return Consequences(
        {k: _consequence_list(v, f"consequences.classes.{k}", True) for k, v in classes.items()},
        {k: _consequence_list(v, f"consequences.listings.{k}", False) for k, v in listings.items()},
    )


def _selection(where: str, category: Any, items: Any) -> tuple[str, frozenset[str] | None]:
    """The records an indicator counts: a category, optionally narrowed to catalogue items."""
    if category not in CATEGORIES:
        raise PolicyError(f"{where}: category must be one of {', '.join(CATEGORIES)}")
    if items is None:
        return category, None
    if not isinstance(items, list) or not items:
        raise PolicyError(f"{where}: items lists catalogue item codes")
    catalogue = default_catalogue()
    for item in items:
        if not isinstance(item, str) or item not in catalogue:
            raise PolicyError(f"{where}: unknown catalogue item {item!r}")
        if catalogue[item].category != category:
            raise PolicyError(f"{where}: item {item} is {catalogue[item].category}, not {category}")
    return category, frozenset(items)


def _indicator(code: str, raw: Any) -> Indicator:
    where = f"indicators.{code}"
    reads = raw.get("reads") if isinstance(raw, dict) else None
    if reads not in READS:
        raise PolicyError(f"{where}: reads must be one of {', '.join(READS)}")
    records = reads == "records"
    required = {"name", "kind", "reads", "points"} | ({"category"} if records else set())
    optional = {"min", "max", "evidence"} | ({"items", "half_life_months"} if records else set())
    entries = mapping(raw, where, required, optional)
    if entries["kind"] not in KINDS:
        raise PolicyError(f"{where}: kind must be one of {', '.join(KINDS)}")
    low = None if entries.get("min") is None else _number(entries["min"], f"{where}.min")
    high = None if entries.get("max") is None else _number(entries["max"], f"{where}.max")
    if low is not None and high is not None and low > high:
        raise PolicyError(f"{where}: min must not exceed max")
    category, items = (
        _selection(where, entries["category"], entries.get("items")) if records else (None, None)
    )
    evidence = entries.get("evidence", False)
    if not isinstance(evidence, bool):
        raise PolicyError(f"{where}.evidence: true or false")
    half_life = entries.get("half_life_months")
    if half_life is not None and _number(half_life, f"{where}.half_life_months") <= 0:
        raise PolicyError(f"{where}.half_life_months: must be positive")
    points: float | dict[str, float]
    if reads == "status":
        points = _weights(entries["points"], f"{where}.points", STATUSES, (), "status")
    elif category == "DISHONEST":
        catalogue = default_catalogue()
        chosen = items or {c for c, i in catalogue.items() if i.category == category}
        tiers = {t for c in chosen for t in catalogue[c].tiers}
        points = _weights(entries["points"], f"{where}.points", tiers, TIER_BOUNDS, "tier")
    else:
        points = _number(entries["points"], f"{where}.points")
    return Indicator(
        code=code,
        name=nonempty_text(entries["name"], f"{where}.name"),
        kind=entries["kind"],
        reads=reads,
        points=points,
        min=low,
        max=high,
        category=category,
        items=items,
        half_life_months=None if half_life is None else float(half_life),
        evidence=evidence,
    )


def _model(raw: Document) -> RatingModel:
    indicators = raw["indicators"]
    if not isinstance(indicators, dict) or not indicators:
        raise PolicyError("indicators must map codes to entries")
    base = _number(raw["base"], "base")
    if not 0 <= base <= 100:
        raise PolicyError("base: must lie within 0..100")
    model = RatingModel(
        version=nonempty_text(raw["version"], "version (quote it)"),
        base=base,
        bands=_bands(raw["bands"]),
        caps=_caps(raw["caps"]),
        indicators=tuple(_indicator(str(c), e) for c, e in indicators.items()),
        consequences=_consequences(raw["consequences"]),
    )
    _earned(model)
    return model


def parse_model(text: str, source: str = "rating.yaml") -> RatingModel:
    return parse(text, source, SHAPE, _model)


def _earned(model: RatingModel) -> None:
    """Class A needs positive evidence: base plus the most every indicator not marked
    ``evidence`` can give must stay below class A's lowest floor."""
    ceiling = model.base
    for indicator in model.indicators:
        if indicator.evidence:
            continue
        most = indicator.most()
        if most == float("inf"):
            raise PolicyError(
                f"indicators.{indicator.code}: gives points without evidence; give it a max "
                "or mark it evidence: true"
            )
        ceiling += max(0.0, most)
    floor_a = next(floor for grade, floor in model.bands if grade == "A")
    if ceiling >= floor_a:
        raise PolicyError(
            f"without evidence a subject could score {ceiling:g}, class A from {floor_a:g}: "
            "class A must be earned"
        )


@cache
def default_model() -> RatingModel:
    return load(RATING_FILE, SHAPE, _model)
