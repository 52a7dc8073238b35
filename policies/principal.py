"""Who is asking: the principal read from a validated token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

# ``public`` is anyone without a token: the portal and anonymous GraphQL (policies/access.yaml).
PUBLIC_ROLE = "public"
# ``subject`` is a company (its legal representative or agent) signed in about itself: it reads
# the public view of everyone and, through its own root fields, its whole archive.
SUBJECT_ROLE = "subject"
# ``association`` is an industry association (policies/associations.yaml), level ASSOCIATION: the
# public view of everyone; its members' standing only through its own root fields.
ASSOCIATION_ROLE = "association"
ROLES = frozenset(
    {
        "partner",
        "investigator",
        "submitter",
        "reviewer",
        "admin",
        PUBLIC_ROLE,
        SUBJECT_ROLE,
        ASSOCIATION_ROLE,
    }
)
LEVELS = frozenset({"REGION", "LEAGUE", "BANNER", "PARTNER", "SUBJECT", "ASSOCIATION"})


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
    credit_code: str | None = None  # a subject's own code (role ``subject``, level SUBJECT)

    def own_code(self) -> str | None:
        """The credit code this caller speaks for: a signed-in subject's, nobody else's."""
        return self.credit_code if SUBJECT_ROLE in self.roles else None

    def own_association(self) -> str | None:
        """The association this caller speaks for: an association token's agency, nobody
        else's (its code was checked against policies/associations.yaml when it was read)."""
        return self.agency if ASSOCIATION_ROLE in self.roles else None


PUBLIC_ISSUER = "public"  # no token: the caller is known only by its address


def public_principal(client: str) -> Principal:
    """Anyone without a token, known by its network address, which its rate is counted by:
    PUBLIC clearance, the ``public`` role, no unit and no jurisdiction."""
    return Principal(
        subject=f"ip:{client}",
        issuer=PUBLIC_ISSUER,
        agency="PUBLIC",
        level="PARTNER",
        division="150000",
        roles=frozenset({PUBLIC_ROLE}),
        clearance=Clearance.PUBLIC,
    )
