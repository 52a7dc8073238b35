"""Who may see what.

Interim rule until the permission model lands (issue 3): every authenticated role reads only
``PUBLIC`` and ``SHARED`` information, whatever its clearance, and never pending records.
"""

from __future__ import annotations

from .principal import Clearance, Principal

INTERIM_CEILING = Clearance.SHARED


def visible_classes(principal: Principal) -> list[str]:
    """Disclosure classes the principal may read, for the Cypher ``IN $classes`` filter."""
    ceiling = min(principal.clearance, INTERIM_CEILING)
    return [c.name for c in Clearance if c <= ceiling]
