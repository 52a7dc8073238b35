"""``hub schema``: print or write the API contract of a role (hub/api/contract.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hub.api.contract import role_sdl
from hub.cli.kit import err, fail
from policies.access import default_policy

REFRESH = "hub schema --out docs/schema"  # what the drift test tells a developer to run


def schema_cmd(
    role: Annotated[
        list[str] | None,
        typer.Option(help="A role whose contract to print; repeat for the union of several."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write ROLE.graphql here for each role (every role unless --role)."),
    ] = None,
) -> None:
    """The SDL of what a role can reach: its root fields in policies/access.yaml, the types
    they reach, less the fields above the role's clearance. For partners, who may not
    introspect, this is the contract to build a client from."""
    policy = default_policy()
    roles = role or []
    try:
        if out is None:
            if not roles:
                raise fail("give --role ROLE (or --out DIR to write every role's contract)")
            sys.stdout.write(role_sdl(policy, roles))
            return
        out.mkdir(parents=True, exist_ok=True)
        for name in roles or sorted(policy.roles):
            path = out / f"{name}.graphql"
            path.write_text(role_sdl(policy, [name]), encoding="utf-8")
            err.print(f"wrote {path}")
    except ValueError as exc:
        raise fail(str(exc)) from None
