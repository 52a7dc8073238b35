"""The caller's unit: only the department's units submit, review and decide on records."""

from __future__ import annotations

from hub.errors import Code, HubError
from policies.principal import Principal
from policies.units import units_by_code


def unit_of(principal: Principal) -> str:
    """The caller's unit code; only the department's units submit and review."""
    if principal.level == "PARTNER" or principal.agency not in units_by_code():
        raise HubError(
            Code.FORBIDDEN, "only the department's units (agency NMG + division code) may do this"
        )
    return principal.agency
