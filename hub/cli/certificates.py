"""``hub certificates``: the keys that sign credit certificates' QR tokens."""

from __future__ import annotations

import json

import typer

from hub.cli.kit import err
from hub.keys import retire_certificate_key
from hub.portal.tokens import jwks, signing_key
from hub.settings import get_settings

app = typer.Typer(help="Credit certificates' signing keys.", no_args_is_help=True)


@app.command("rotate-key")
def rotate_key_cmd() -> None:
    """Retire the signing key (it keeps verifying what it signed) and start a new one."""
    keys_dir = get_settings().keys_dir
    retired = retire_certificate_key(keys_dir)
    current = signing_key(keys_dir)
    err.print(
        f"retired {retired.name if retired else 'nothing (no key yet)'}; "
        f"new certificates are signed by key {current.kid}"
    )


@app.command("keys")
def keys_cmd() -> None:
    """Print the public keys as the JWK Set that /certificates/keys.json publishes."""
    typer.echo(json.dumps(jwks(get_settings().keys_dir), indent=2))
