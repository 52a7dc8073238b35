"""Who is asking: the principal read from a validated token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

ROLES = frozenset({"partner", "investigator", "submitter", "reviewer", "admin"})
LEVELS = frozenset({"REGION", "LEAGUE", "BANNER", "PARTNER"})


class Clearance(IntEnum):
    """Disclosure classes, ordered: a caller cleared for one reads every class below it."""

    PUBLIC = 0
    SHARED = 1
    RESTRICTED = 2
    CONFIDENTIAL = 3


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str  # the token's `sub`
    issuer: str
    agency: str
    level: str
    division: str
    roles: frozenset[str]
    clearance: Clearance
    purpose: str | None = None
    expires_at: float = 0.0  # the token's `exp`, so a cached principal dies with its token
