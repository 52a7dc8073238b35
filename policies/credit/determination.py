"""Dishonesty determination and a listing's steps, as pure rules (determination.yaml).

A case goes PROPOSED → NOTIFIED (the subject may state its case and object for some working
days, or waive that) → LISTED (decided and published) → ENDED (expired or repaired); an
objection makes it OBJECTED until answered (upheld: WITHDRAWN; rejected: back to NOTIFIED), and
it may be WITHDRAWN before it is listed. Each function checks one step and says what follows;
the graph layer writes it, with who and why, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from policies.credit.catalogue import Period, add_months
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.values import whole
from policies.workdays import add_working_days

DETERMINATION_FILE = POLICY_DIR / "determination.yaml"
SHAPE = Shape(
    {
        "outcomes",
        "statement_working_days",
        "objection_reply_days",
        "publication",
        "reason",
        "four_eyes",
    }
)
FAULTS = ("NEGLIGENCE", "INTENT", "MALICE")
TIERS = ("MINOR", "GENERAL", "SERIOUS")
OUTCOMES = ("NONE", "DISHONEST", "SERIOUS_DISHONESTY")
ACTIONS = ("PROPOSE", "NOTIFY", "WAIVE", "OBJECT", "ANSWER", "DECIDE", "WITHDRAW", "REPAIR")
# The floor of the four-eyes rule: an operator may add to it, never take from it.
FOUR_EYES_FLOOR = {"DECIDE": {"PROPOSE"}, "ANSWER": {"PROPOSE", "NOTIFY"}}
_SEVERITY = {t: n for n, t in enumerate(TIERS)}


class StepRefused(Exception):
    """The step is not allowed now; ``code`` is the API's error code, ``reason`` stable. The
    graph layer adds the case's ``subject`` once it knows it, so the refusal is audited there."""

    def __init__(self, code: str, reason: str, message: str, subject: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.subject = subject


@dataclass(frozen=True, slots=True)
class DeterminationRules:
    outcomes: dict[str, dict[str, str]]  # fault → tier → outcome
    statement_working_days: int
    objection_reply_days: int
    publication: dict[str, Period]  # listing → period
    reason_min: int
    reason_max: int
    four_eyes: dict[str, frozenset[str]]  # step → earlier steps whose people may not take it


@dataclass(frozen=True, slots=True)
class Case:
    status: str
    proposed_by: str
    listing: str
    statement_until: date | None = None
    waived: bool = False
    repairable_from: date | None = None
    actors: tuple[tuple[str, str], ...] = ()  # (action, who) of every step taken so far


@dataclass(frozen=True, slots=True)
class Step:
    status: str  # the case's state afterwards
    props: dict[str, Any]  # what else the step sets on the case


def _rules(raw: Document) -> DeterminationRules:
    outcomes = raw["outcomes"]
    if not isinstance(outcomes, dict) or set(outcomes) != set(FAULTS):
        raise PolicyError(f"outcomes has one row per fault {FAULTS}")
    for fault, row in outcomes.items():
        if not isinstance(row, dict) or set(row) != set(TIERS):
            raise PolicyError(f"outcomes.{fault} has one entry per tier")
        for tier, outcome in row.items():
            if outcome not in OUTCOMES:
                raise PolicyError(f"outcomes.{fault}.{tier} is one of {', '.join(OUTCOMES)}")
    publication = {}
    for listing, period in (raw["publication"] or {}).items():
        where = f"publication.{listing}"
        if not isinstance(period, dict) or set(period) != {"min_months", "max_months"}:
            raise PolicyError(f"{where}: needs min_months and max_months")
        low = whole(period["min_months"], f"{where}.min_months", 0, 120)
        high = whole(period["max_months"], f"{where}.max_months", 1, 120)
        if low > high:
            raise PolicyError(f"{where}: min_months is more than max_months")
        publication[listing] = Period(low, high)
    if "SERIOUS_DISHONESTY" not in publication:
        raise PolicyError("publication.SERIOUS_DISHONESTY is missing")
    reason = raw["reason"]
    if not isinstance(reason, dict) or set(reason) != {"min_chars", "max_chars"}:
        raise PolicyError("reason needs min_chars and max_chars")
    return DeterminationRules(
        {f: dict(r) for f, r in outcomes.items()},
        whole(raw["statement_working_days"], "statement_working_days", 0, 60),
        whole(raw["objection_reply_days"], "objection_reply_days", 1, 365),
        publication,
        whole(reason["min_chars"], "reason.min_chars", 1, 100),
        whole(reason["max_chars"], "reason.max_chars", 10, 5000),
        _four_eyes(raw["four_eyes"]),
    )


def parse_rules(text: str, source: str = "determination.yaml") -> DeterminationRules:
    return parse(text, source, SHAPE, _rules)


def _four_eyes(raw: Any) -> dict[str, frozenset[str]]:
    where = "four_eyes"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: maps a step to the earlier steps it excludes")
    rules: dict[str, frozenset[str]] = {}
    for step, earlier in raw.items():
        if step not in ACTIONS or step == "PROPOSE":
            raise PolicyError(f"{where}.{step}: a step is one of {ACTIONS[1:]}")
        if not isinstance(earlier, list) or not set(earlier) <= set(ACTIONS):
            raise PolicyError(f"{where}.{step}: a list of steps among {ACTIONS}")
        rules[step] = frozenset(earlier)
    for step, floor in FOUR_EYES_FLOOR.items():
        if not floor <= rules.get(step, frozenset()):
            raise PolicyError(
                f"{where}.{step}: must exclude at least {sorted(floor)} (the second person)"
            )
    return rules


def check_four_eyes(rules: DeterminationRules, case: Case, action: str, by: str) -> None:
    """Refuse a step to a person who took one of the earlier steps it must be kept from."""
    excluded = rules.four_eyes.get(action, frozenset())
    own = sorted({step for step, who in case.actors if who == by and step in excluded})
    if own:
        raise StepRefused(
            "FORBIDDEN",
            "four-eyes",
            f"{action} needs a second person: {by} took this case's {', '.join(own)} step",
        )


@cache
def default_rules() -> DeterminationRules:
    return load(DETERMINATION_FILE, SHAPE, _rules)


def determine(rules: DeterminationRules, fault: str, tiers: list[str]) -> str:
    """The outcome of the fault and the most severe of the records' tiers."""
    if fault not in FAULTS:
        raise StepRefused("BAD_USER_INPUT", "unknown-fault", f"fault is one of {FAULTS}")
    worst = max((t for t in tiers if t in _SEVERITY), key=_SEVERITY.__getitem__, default=None)
    if worst is None:
        raise StepRefused(
            "BAD_USER_INPUT", "not-dishonest", "a determination rests on dishonest records"
        )
    return rules.outcomes[fault][worst]


def check_reason(rules: DeterminationRules, reason: str | None) -> str:
    text = (reason or "").strip()
    if not rules.reason_min <= len(text) <= rules.reason_max:
        raise StepRefused(
            "BAD_USER_INPUT",
            "reason",
            f"the reason is {rules.reason_min}-{rules.reason_max} characters",
        )
    return text


def _expect(case: Case, *states: str) -> None:
    if case.status not in states:
        raise StepRefused(
            "CONFLICT", "wrong-state", f"the case is {case.status}, not {' or '.join(states)}"
        )


def notify(rules: DeterminationRules, case: Case, today: date) -> Step:
    _expect(case, "PROPOSED")
    until = add_working_days(today, rules.statement_working_days)
    return Step("NOTIFIED", {"notifiedOn": today, "statementUntil": until})


def waive(case: Case) -> Step:
    _expect(case, "NOTIFIED")
    return Step("NOTIFIED", {"waived": True})


def object_to(rules: DeterminationRules, case: Case, today: date) -> Step:
    _expect(case, "NOTIFIED")
    if case.waived or (case.statement_until is not None and today > case.statement_until):
        raise StepRefused(
            "CONFLICT", "statement-closed", "the period to state its case and object has ended"
        )
    return Step(
        "OBJECTED",
        {"objectedOn": today, "replyBy": today + timedelta(days=rules.objection_reply_days)},
    )


def answer(case: Case, upheld: bool) -> Step:
    _expect(case, "OBJECTED")
    return Step("WITHDRAWN" if upheld else "NOTIFIED", {"objectionUpheld": upheld})


def decide(rules: DeterminationRules, case: Case, today: date, months: int | None) -> Step:
    """Decide and publish: after the statement period (or its waiver), for a publication
    period within the listing's bounds (who may decide: ``check_four_eyes``)."""
    _expect(case, "NOTIFIED")
    if not case.waived and (case.statement_until is None or today <= case.statement_until):
        raise StepRefused(
            "CONFLICT",
            "statement-open",
            f"the subject may state its case until {case.statement_until}; decide after it",
        )
    period = rules.publication[case.listing]
    chosen = period.max_months if months is None else months
    if not period.min_months <= chosen <= period.max_months:
        raise StepRefused(
            "BAD_USER_INPUT",
            "period",
            f"publication is {period.min_months}-{period.max_months} months",
        )
    return Step(
        "LISTED",
        {
            "decidedOn": today,
            "publishUntil": add_months(today, chosen),
            "repairableFrom": add_months(today, period.min_months),
        },
    )


def withdraw(case: Case) -> Step:
    _expect(case, "PROPOSED", "NOTIFIED", "OBJECTED")
    return Step("WITHDRAWN", {})


def repair(case: Case, today: date) -> Step:
    _expect(case, "LISTED")
    if case.repairable_from is None or today < case.repairable_from:
        raise StepRefused(
            "CONFLICT",
            "too-early",
            f"repair may be granted from {case.repairable_from}, after the minimum period",
        )
    return Step("ENDED", {"endedOn": today, "endReason": "REPAIRED"})
