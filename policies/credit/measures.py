"""The joint-punishment catalogue (measures.yaml): partner kinds, the measures each applies to
which listing, the events partners subscribe to, and how hard the hub tries to deliver them.

Pure and validated at load: a measure for an unknown partner kind or listing, an unknown event
or an out-of-range delivery rule stops the start with the entry named.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from policies.credit.listings import LISTINGS
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.values import nonempty_text, number

MEASURES_FILE = POLICY_DIR / "measures.yaml"
SHAPE = Shape({"partner_kinds", "measures", "events", "delivery", "record_kinds"})
_KIND = re.compile(r"^[A-Z][A-Z_]{1,39}$")
RECORD_EVENT = "record.published"


@dataclass(frozen=True, slots=True)
class Measure:
    code: str
    name: str
    partner_kind: str
    listings: tuple[str, ...]
    basis: str


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float
    timeout_seconds: float
    reconcile_after_seconds: float

    def backoff(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds before the next try after ``attempts`` failures: doubling from the base up
        to the cap, with "equal jitter" (half fixed, half random) so retries spread out."""
        ceiling: float = min(
            self.backoff_max_seconds, self.backoff_seconds * 2.0 ** max(attempts - 1, 0)
        )
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class Catalogue:
    partner_kinds: dict[str, str]  # code → name
    measures: dict[str, Measure]
    events: dict[str, str]  # webhook type → what it means
    delivery: DeliveryRules
    record_kinds: tuple[str, ...] = ()  # kinds told of records published under 双公示

    def for_listing(self, listing: str) -> list[Measure]:
        return [m for m in self.measures.values() if listing in m.listings]

    def kinds_of(self, codes: list[str]) -> tuple[str, ...]:
        """The partner kinds that apply these measures (unknown codes left out)."""
        return tuple(sorted({self.measures[c].partner_kind for c in codes if c in self.measures}))

    def describe(self, codes: list[str]) -> list[dict[str, str]]:
        """The measures as events and the feed carry them (unknown codes left out)."""
        return [
            {
                "code": c,
                "name": self.measures[c].name,
                "partnerKind": self.measures[c].partner_kind,
                "basis": self.measures[c].basis,
            }
            for c in codes
            if c in self.measures
        ]


def _measure(code: str, raw: Any, kinds: dict[str, str]) -> Measure:
    where = f"measures.{code}"
    if not isinstance(raw, dict) or set(raw) != {"name", "partner_kind", "listings", "basis"}:
        raise PolicyError(f"{where}: needs name, partner_kind, listings and basis")
    if raw["partner_kind"] not in kinds:
        raise PolicyError(f"{where}: unknown partner kind {raw['partner_kind']!r}")
    listings = raw["listings"]
    if not isinstance(listings, list) or not listings or not set(listings) <= set(LISTINGS):
        raise PolicyError(f"{where}: listings are some of {', '.join(LISTINGS)}")
    return Measure(
        code,
        nonempty_text(raw["name"], f"{where}.name"),
        raw["partner_kind"],
        tuple(listings),
        nonempty_text(raw["basis"], f"{where}.basis"),
    )


def _catalogue(raw: Document) -> Catalogue:
    kinds = raw["partner_kinds"]
    if not isinstance(kinds, dict) or not kinds:
        raise PolicyError("partner_kinds maps codes to names")
    kinds = {str(k): nonempty_text(v, f"partner_kinds.{k}") for k, v in kinds.items()}
    if bad := [k for k in kinds if not _KIND.match(k)]:
        raise PolicyError(f"partner_kinds.{bad[0]}: a code like CREDIT_AGENCY")
    if not isinstance(raw["measures"], dict) or not raw["measures"]:
        raise PolicyError("measures maps codes to measures")
    measures = {str(c): _measure(str(c), m, kinds) for c, m in raw["measures"].items()}
    events = raw["events"]
    if not isinstance(events, dict) or not events:
        raise PolicyError("events maps webhook types to their meaning")
    record_kinds = raw["record_kinds"]
    if not isinstance(record_kinds, list) or not set(record_kinds) <= set(kinds):
        raise PolicyError("record_kinds are some of the partner_kinds")
    if record_kinds and RECORD_EVENT not in events:
        raise PolicyError(f"record_kinds need the event {RECORD_EVENT}")
    return Catalogue(
        kinds,
        measures,
        {str(k): nonempty_text(v, f"events.{k}") for k, v in events.items()},
        _delivery(raw["delivery"]),
        tuple(record_kinds),
    )


def _delivery(raw: Any) -> DeliveryRules:
    rules = (
        "max_attempts",
        "backoff_seconds",
        "backoff_max_seconds",
        "timeout_seconds",
        "reconcile_after_seconds",
    )
    if not isinstance(raw, dict) or set(raw) != set(rules):
        raise PolicyError(f"delivery needs {sorted(rules)}")
    return DeliveryRules(
        int(number(raw["max_attempts"], "delivery.max_attempts", 1, 100)),
        number(raw["backoff_seconds"], "delivery.backoff_seconds", 0.01, 3600),
        number(raw["backoff_max_seconds"], "delivery.backoff_max_seconds", 0.01, 86400),
        number(raw["timeout_seconds"], "delivery.timeout_seconds", 0.1, 300),
        number(raw["reconcile_after_seconds"], "delivery.reconcile_after_seconds", 0, 30 * 86400),
    )


def parse_measures(text: str, source: str = "measures.yaml") -> Catalogue:
    return parse(text, source, SHAPE, _catalogue)


def load_measures(path: Path = MEASURES_FILE) -> Catalogue:
    """The catalogue in ``path``: the shipped file, or the one ``HUB_MEASURES_FILE`` names."""
    return load(path, SHAPE, _catalogue)


@cache
def default_measures() -> Catalogue:
    return load_measures()
