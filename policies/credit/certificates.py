"""Who may obtain a credit certificate, how long it runs and what revokes it
(certificates.yaml): pure and validated at load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from policies.credit.catalogue import add_months
from policies.credit.listings import LISTINGS
from policies.credit.rating import GRADES

CERTIFICATES_FILE = Path(__file__).resolve().parent.parent / "certificates.yaml"


class CertificatesConfigError(ValueError):
    """The certificates file is wrong; the message names the entry."""


@dataclass(frozen=True, slots=True)
class CertificateRules:
    grades: tuple[str, ...]  # grades that may obtain one, best first
    valid_months: int
    revoking_listings: frozenset[str]

    def eligible(self, grade: str | None) -> bool:
        return grade in self.grades

    def expires(self, issued: date) -> date:
        """The last day a certificate issued on ``issued`` is valid."""
        return add_months(issued, self.valid_months) - timedelta(days=1)

    def dropped(self, certified: str, now: str | None) -> bool:
        """Whether the grade ``now`` is below the grade a certificate states."""
        return now is None or GRADES.index(now) > GRADES.index(certified)


def parse_certificate_rules(text: str, source: str = "certificates.yaml") -> CertificateRules:
    raw: Any = yaml.safe_load(text)
    keys = {"version", "grades", "valid_months", "revoking_listings"}
    if not isinstance(raw, dict) or raw.get("version") != 1 or set(raw) != keys:
        raise CertificatesConfigError(
            f"{source}: expected version: 1 and {sorted(keys - {'version'})}"
        )
    grades = raw["grades"]
    if not isinstance(grades, list) or not grades or not set(grades) <= set(GRADES):
        raise CertificatesConfigError(f"{source}: grades are some of {', '.join(GRADES)}")
    months = raw["valid_months"]
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 36:
        raise CertificatesConfigError(f"{source}: valid_months is a whole number from 1 to 36")
    listings = raw["revoking_listings"]
    if not isinstance(listings, list) or not set(listings) <= set(LISTINGS):
        raise CertificatesConfigError(
            f"{source}: revoking_listings are some of {', '.join(LISTINGS)}"
        )
    return CertificateRules(tuple(g for g in GRADES if g in grades), months, frozenset(listings))


@cache
def default_certificate_rules() -> CertificateRules:
    return parse_certificate_rules(
        CERTIFICATES_FILE.read_text(encoding="utf-8"), str(CERTIFICATES_FILE)
    )
