"""Exposure scoring rules (exposure.yaml): decay per relationship kind, depth, hubs.

Pure and validated at load, so an operator can tune how far suspicion travels without code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from policies.credit.listings import LISTINGS
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load
from policies.values import whole

EXPOSURE_FILE = POLICY_DIR / "exposure.yaml"
SHAPE = Shape({"max_depth", "decay", "hub_degree", "listings"})
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


def _rules(raw: Document) -> ExposureRules:
    decay = raw["decay"]
    if not isinstance(decay, dict) or set(decay) != set(RELATIONSHIPS):
        raise PolicyError(f"decay names exactly {', '.join(RELATIONSHIPS)}")
    for kind, value in decay.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1:
            raise PolicyError(f"decay.{kind} is a number in (0, 1]")
    listings = raw["listings"]
    if not isinstance(listings, list) or not listings or not set(listings) <= set(LISTINGS):
        raise PolicyError(f"listings among {', '.join(LISTINGS)}")
    return ExposureRules(
        max_depth=whole(raw["max_depth"], "max_depth", 1, 4),
        decay={k: float(v) for k, v in decay.items()},
        hub_degree=whole(raw["hub_degree"], "hub_degree", 2, 100_000),
        listings=tuple(listings),
    )


@cache
def default_rules() -> ExposureRules:
    return load(EXPOSURE_FILE, SHAPE, _rules)
