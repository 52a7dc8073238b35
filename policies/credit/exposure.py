"""Exposure scoring rules (exposure.yaml): decay per relationship kind, depth, hubs.

Pure and validated at load, so an operator can tune how far suspicion travels without code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from policies.credit.listings import LISTINGS

EXPOSURE_FILE = Path(__file__).resolve().parent.parent / "exposure.yaml"
RELATIONSHIPS = (
    "LEGAL_REPRESENTATIVE_OF",
    "CONTROLS",
    "SHAREHOLDER_OF",
    "SUCCEEDED_BY",
    "BRANCH_OF",
    "OFFICER_OF",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_ADDRESS",
)


class ExposureConfigError(ValueError):
    """The exposure file is wrong; the message names the entry."""


@dataclass(frozen=True, slots=True)
class ExposureRules:
    max_depth: int
    decay: dict[str, float]
    hub_degree: int
    listings: tuple[str, ...]

    def weight(self, kinds: list[str]) -> float:
        """The share of a link that survives a path crossing these relationship kinds."""
        weight = 1.0
        for kind in kinds:
            weight *= self.decay[kind]
        return weight


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ExposureConfigError(f"{where}: a whole number from {low} to {high}")
    return value


def parse_rules(text: str, source: str = "exposure.yaml") -> ExposureRules:
    raw = yaml.safe_load(text)
    keys = {"version", "max_depth", "decay", "hub_degree", "listings"}
    if not isinstance(raw, dict) or raw.get("version") != 1 or set(raw) != keys:
        raise ExposureConfigError(f"{source}: expected version: 1 and {sorted(keys - {'version'})}")
    decay = raw["decay"]
    if not isinstance(decay, dict) or set(decay) != set(RELATIONSHIPS):
        raise ExposureConfigError(f"{source}: decay names exactly {', '.join(RELATIONSHIPS)}")
    for kind, value in decay.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1:
            raise ExposureConfigError(f"{source}: decay.{kind} is a number in (0, 1]")
    listings = raw["listings"]
    if not isinstance(listings, list) or not listings or not set(listings) <= set(LISTINGS):
        raise ExposureConfigError(f"{source}: listings among {', '.join(LISTINGS)}")
    return ExposureRules(
        max_depth=_whole(raw["max_depth"], f"{source}: max_depth", 1, 4),
        decay={k: float(v) for k, v in decay.items()},
        hub_degree=_whole(raw["hub_degree"], f"{source}: hub_degree", 2, 100_000),
        listings=tuple(listings),
    )


@cache
def default_rules() -> ExposureRules:
    return parse_rules(EXPOSURE_FILE.read_text(encoding="utf-8"), str(EXPOSURE_FILE))
