"""``hub token``: development tokens from the built-in dev issuer, for local use."""

from __future__ import annotations

from typing import Annotated

import typer

from graph.identifiers import InvalidIdentifier, validate_uscc
from hub.cli.kit import fail
from hub.http.auth.dev_tokens import mint_dev_token
from hub.keys import dev_jwt_secret
from hub.settings import Settings, get_settings
from policies.divisions import REGION_CODE
from policies.principal import ASSOCIATION_ROLE, ROLES, SUBJECT_ROLE, Clearance
from policies.units import units_by_code


def dev_token(
    settings: Settings,
    role: str,
    agency: str,
    division: str,
    clearance: str,
    purpose: str | None,
    ttl: int,
    credit_code: str | None = None,
) -> str:
    """A token of the dev issuer the settings describe (``HUB_JWT_*``, the local key)."""
    return mint_dev_token(
        dev_jwt_secret(settings.keys_dir),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        role=role,
        agency=agency,
        division_code=division,
        clearance=clearance,
        purpose=purpose,
        ttl=ttl,
        credit_code=credit_code,
    )


def token(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(sorted(ROLES))}.")],
    agency: Annotated[
        str | None,
        typer.Option(help="The caller's organisation code (a subject's is its credit code)."),
    ] = None,
    division: Annotated[
        str | None,
        typer.Option(help="6-digit division; a unit's own by default, 150000 for a partner."),
    ] = None,
    clearance: Annotated[str | None, typer.Option(help="PUBLIC … CONFIDENTIAL.")] = None,
    purpose: Annotated[str | None, typer.Option(help="Why the calls are made.")] = None,
    ttl: Annotated[
        int, typer.Option(help="Lifetime in seconds, at most HUB_JWT_MAX_LIFETIME.")
    ] = 3600,
    credit_code: Annotated[
        str | None,
        typer.Option("--credit-code", help="With --role subject: the company's own code."),
    ] = None,
) -> None:
    """Print a development token, alone on standard output."""
    if role not in ROLES:
        raise fail(f"role must be one of {', '.join(sorted(ROLES))}")
    if (role == SUBJECT_ROLE) != (credit_code is not None):
        raise fail("--credit-code goes with --role subject, and --role subject needs it")
    if credit_code is not None:
        try:
            credit_code = validate_uscc(credit_code)
        except InvalidIdentifier as exc:
            raise fail(f"--credit-code: {exc}") from None
        if agency not in (None, credit_code):
            raise fail("a subject's --agency is its --credit-code; leave --agency out")
        agency = credit_code
    if agency is None:
        raise fail("--agency is needed (a unit's code, a partner's or an association's)")
    default = {"partner": "SHARED", SUBJECT_ROLE: "PUBLIC", ASSOCIATION_ROLE: "PUBLIC"}.get(
        role, "RESTRICTED"
    )
    level = clearance or default
    if level not in Clearance.__members__:
        raise fail("clearance must be PUBLIC, SHARED, RESTRICTED or CONFIDENTIAL")
    settings = get_settings()
    if not 0 < ttl <= settings.jwt_max_lifetime:
        # The hub would refuse a longer-lived token: say so now, not at the first request.
        raise fail(f"--ttl must be from 1 to {settings.jwt_max_lifetime} (HUB_JWT_MAX_LIFETIME)")
    if division is None:  # a unit's token carries its unit's division, or the hub refuses it
        unit = units_by_code().get(agency)
        division = unit.division if unit is not None and role != "partner" else REGION_CODE
    try:
        signed = dev_token(settings, role, agency, division, level, purpose, ttl, credit_code)
    except Exception as exc:
        raise fail(str(exc)) from None
    typer.echo(signed)
