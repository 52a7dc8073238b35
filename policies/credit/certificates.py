"""Who may obtain a credit certificate, how long it runs and what revokes it
(certificates.yaml): pure and validated at load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from policies.credit.catalogue import add_months
from policies.credit.listings import LISTINGS
from policies.credit.rating import GRADES
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.values import whole

CERTIFICATES_FILE = POLICY_DIR / "certificates.yaml"
SHAPE = Shape({"grades", "valid_months", "revoking_listings"})


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


def _rules(raw: Document) -> CertificateRules:
    grades = raw["grades"]
    if not isinstance(grades, list) or not grades or not set(grades) <= set(GRADES):
        raise PolicyError(f"grades are some of {', '.join(GRADES)}")
    months = whole(raw["valid_months"], "valid_months", 1, 36)
    listings = raw["revoking_listings"]
    if not isinstance(listings, list) or not set(listings) <= set(LISTINGS):
        raise PolicyError(f"revoking_listings are some of {', '.join(LISTINGS)}")
    return CertificateRules(tuple(g for g in GRADES if g in grades), months, frozenset(listings))


def parse_certificate_rules(text: str, source: str = "certificates.yaml") -> CertificateRules:
    return parse(text, source, SHAPE, _rules)


@cache
def default_certificate_rules() -> CertificateRules:
    return load(CERTIFICATES_FILE, SHAPE, _rules)
