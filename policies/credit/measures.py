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

import yaml

from policies.credit.listings import LISTINGS

MEASURES_FILE = Path(__file__).resolve().parent.parent / "measures.yaml"
_KIND = re.compile(r"^[A-Z][A-Z_]{1,39}$")
RECORD_EVENT = "record.published"


class MeasuresConfigError(ValueError):
    """The measures file is wrong; the message names the entry."""


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


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MeasuresConfigError(f"{where}: a non-empty text")
    return value


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise MeasuresConfigError(f"{where}: a number from {low} to {high}")
    return float(value)


def _measure(code: str, raw: Any, kinds: dict[str, str], source: str) -> Measure:
    where = f"{source}: measures.{code}"
    if not isinstance(raw, dict) or set(raw) != {"name", "partner_kind", "listings", "basis"}:
        raise MeasuresConfigError(f"{where}: needs name, partner_kind, listings and basis")
    if raw["partner_kind"] not in kinds:
        raise MeasuresConfigError(f"{where}: unknown partner kind {raw['partner_kind']!r}")
    listings = raw["listings"]
    if not isinstance(listings, list) or not listings or not set(listings) <= set(LISTINGS):
        raise MeasuresConfigError(f"{where}: listings are some of {', '.join(LISTINGS)}")
    return Measure(
        code,
        _text(raw["name"], f"{where}.name"),
        raw["partner_kind"],
        tuple(listings),
        _text(raw["basis"], f"{where}.basis"),
    )


def parse_catalogue(text: str, source: str = "measures.yaml") -> Catalogue:
    raw = yaml.safe_load(text)
    keys = {"version", "partner_kinds", "measures", "events", "delivery", "record_kinds"}
    if not isinstance(raw, dict) or raw.get("version") != 1 or set(raw) != keys:
        raise MeasuresConfigError(f"{source}: expected version: 1 and {sorted(keys - {'version'})}")
    kinds = raw["partner_kinds"]
    if not isinstance(kinds, dict) or not kinds:
        raise MeasuresConfigError(f"{source}: partner_kinds maps codes to names")
    kinds = {str(k): _text(v, f"{source}: partner_kinds.{k}") for k, v in kinds.items()}
    if bad := [k for k in kinds if not _KIND.match(k)]:
        raise MeasuresConfigError(f"{source}: partner_kinds.{bad[0]}: a code like CREDIT_AGENCY")
    if not isinstance(raw["measures"], dict) or not raw["measures"]:
        raise MeasuresConfigError(f"{source}: measures maps codes to measures")
    measures = {str(c): _measure(str(c), m, kinds, source) for c, m in raw["measures"].items()}
    events = raw["events"]
    if not isinstance(events, dict) or not events:
        raise MeasuresConfigError(f"{source}: events maps webhook types to their meaning")
    delivery = raw["delivery"]
    rules = {
        "max_attempts",
        "backoff_seconds",
        "backoff_max_seconds",
        "timeout_seconds",
        "reconcile_after_seconds",
    }
    if not isinstance(delivery, dict) or set(delivery) != rules:
        raise MeasuresConfigError(f"{source}: delivery needs {sorted(rules)}")
    record_kinds = raw["record_kinds"]
    if not isinstance(record_kinds, list) or not set(record_kinds) <= set(kinds):
        raise MeasuresConfigError(f"{source}: record_kinds are some of the partner_kinds")
    if record_kinds and RECORD_EVENT not in events:
        raise MeasuresConfigError(f"{source}: record_kinds need the event {RECORD_EVENT}")
    where = f"{source}: delivery"
    return Catalogue(
        kinds,
        measures,
        {str(k): _text(v, f"{source}: events.{k}") for k, v in events.items()},
        DeliveryRules(
            int(_number(delivery["max_attempts"], f"{where}.max_attempts", 1, 100)),
            _number(delivery["backoff_seconds"], f"{where}.backoff_seconds", 0.01, 3600),
            _number(delivery["backoff_max_seconds"], f"{where}.backoff_max_seconds", 0.01, 86400),
            _number(delivery["timeout_seconds"], f"{where}.timeout_seconds", 0.1, 300),
            _number(
                delivery["reconcile_after_seconds"],
                f"{where}.reconcile_after_seconds",
                0,
                30 * 86400,
            ),
        ),
        tuple(record_kinds),
    )


@cache
def default_catalogue() -> Catalogue:
    return parse_catalogue(MEASURES_FILE.read_text(encoding="utf-8"), str(MEASURES_FILE))
