"""Review rules (review.yaml): who may approve or return a pending record, and what follows.

Pure: the graph layer reads a record's state under a write lock, asks :func:`approve` or
:func:`return_record` what the new state is, and writes it. A refusal names a stable code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from policies.credit.catalogue import TIER_BOUNDS
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse

REVIEW_FILE = POLICY_DIR / "review.yaml"
SHAPE = Shape({"approvals", "return_reason"})


class ReviewRefused(Exception):
    """The step is not allowed; ``code`` is the API's error code. The graph layer adds the
    record's ``subject`` once it knows it, so the refusal is audited against the subject."""

    def __init__(self, code: str, message: str, subject: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.subject = subject


@dataclass(frozen=True, slots=True)
class ReviewRules:
    approvals: dict[str, int]  # tier (or "default") → distinct reviewers needed
    reason_min: int
    reason_max: int

    def needed(self, tier: str | None) -> int:
        return self.approvals.get(tier or "", self.approvals["default"])


@dataclass(frozen=True, slots=True)
class RecordState:
    status: str
    tier: str | None
    submitted_by: str
    approvals: tuple[str, ...]  # reviewers who approved so far, in order


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # PENDING (waiting for another reviewer), PUBLISHED or RETURNED
    approvals: tuple[str, ...]


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise PolicyError(f"{where}: a whole number of reviewers from 1 to 5")
    return value


def _rules(raw: Document) -> ReviewRules:
    approvals = raw["approvals"]
    if not isinstance(approvals, dict) or "default" not in approvals:
        raise PolicyError("approvals needs a default")
    unknown = set(approvals) - {"default", *TIER_BOUNDS}
    if unknown:
        raise PolicyError(f"approvals: unknown tiers {sorted(map(str, unknown))}")
    counts = {tier: _count(n, f"approvals.{tier}") for tier, n in approvals.items()}
    reason = raw["return_reason"]
    if not isinstance(reason, dict) or set(reason) != {"min_chars", "max_chars"}:
        raise PolicyError("return_reason needs min_chars and max_chars")
    low, high = reason["min_chars"], reason["max_chars"]
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high))
    if not (whole and 1 <= low <= high <= 2000):
        raise PolicyError("return_reason: 1 <= min_chars <= max_chars <= 2000")
    return ReviewRules(counts, low, high)


def parse_rules(text: str, source: str = "review.yaml") -> ReviewRules:
    return parse(text, source, SHAPE, _rules)


@cache
def default_rules() -> ReviewRules:
    return load(REVIEW_FILE, SHAPE, _rules)


def _reviewable(state: RecordState, reviewer: str) -> None:
    if state.status != "PENDING":
        raise ReviewRefused("CONFLICT", f"the record is {state.status}, not PENDING")
    if reviewer == state.submitted_by:
        raise ReviewRefused("FORBIDDEN", "nobody reviews their own submission")
    if reviewer in state.approvals:
        raise ReviewRefused("CONFLICT", "you approved this record already; another reviewer must")


def approve(state: RecordState, reviewer: str, rules: ReviewRules | None = None) -> Outcome:
    rules = rules or default_rules()
    _reviewable(state, reviewer)
    approvals = (*state.approvals, reviewer)
    done = len(approvals) >= rules.needed(state.tier)
    return Outcome("PUBLISHED" if done else "PENDING", approvals)


def return_record(
    state: RecordState, reviewer: str, reason: str, rules: ReviewRules | None = None
) -> Outcome:
    """Back to the submitter with a reason; earlier approvals no longer count."""
    rules = rules or default_rules()
    _reviewable(state, reviewer)
    text = reason.strip()
    if not rules.reason_min <= len(text) <= rules.reason_max:
        raise ReviewRefused(
            "BAD_USER_INPUT",
            f"give a reason of {rules.reason_min}-{rules.reason_max} characters",
        )
    return Outcome("RETURNED", ())
