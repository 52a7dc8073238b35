"""The shapes of generated rows every part shares: provenance, relations, contacts, rating."""

from __future__ import annotations

from typing import Any

from demo.odds import ABNORMAL_CAP, COMPUTED_AT, GRADE_BANDS, MODEL_VERSION, SERIOUS_CAP, SYSTEM
from policies.credit.rating_file import default_model

Row = dict[str, Any]  # one exchange-file row (docs/data-format.md)


def source_of(agency: str) -> dict[str, Any]:
    return {"system": SYSTEM, "agency": agency}


def relation_row(
    rel_type: str, start: dict[str, str], end: dict[str, str], since: str, agency: str
) -> Row:
    return {
        "kind": "Relation",
        "type": rel_type,
        "from": start,
        "to": end,
        "since": since,
        "until": None,
        "source": source_of(agency),
    }


def with_contacts(row: Row, phones: list[str], addresses: list[str], emails: list[str]) -> Row:
    """Attach contact lists, leaving out empty ones."""
    if phones:
        row["phones"] = phones
    if addresses:
        row["addresses"] = addresses
    if emails:
        row["emails"] = emails
    return row


def _grade(score: int) -> str:
    return next(grade for floor, grade in GRADE_BANDS if score >= floor)


def rating_row(code: str, score: int) -> Row:
    """The seed-1 rating: grade from the score bands, the consequences of its grade class
    (policies/rating.yaml). ``hub up`` re-rates the demo with the current model."""
    grade = _grade(score)
    return {
        "kind": "Rating",
        "id": "RT-" + code,
        "subject": code,
        "score": score,
        "grade": grade,
        "modelVersion": MODEL_VERSION,
        "computedAt": COMPUTED_AT,
        "measures": [c.code for c in default_model().consequences.classes[grade[0]]],
        "source": {"system": SYSTEM},
    }


def capped_score(score: int, serious_active: bool, abnormal_active: bool) -> int:
    score = max(0, min(100, score))
    if serious_active:
        score = min(score, SERIOUS_CAP)
    if abnormal_active:
        score = min(score, ABNORMAL_CAP)
    return score
