"""The command line's contract for scripts."""

from __future__ import annotations

import jwt

from hub.settings import get_settings
from tests.conftest import hub_command


def test_token_is_printed_alone_and_carries_the_claims() -> None:
    result = hub_command(
        "token",
        "--role",
        "investigator",
        "--agency",
        "NMG152200",
        "--division",
        "152200",
        "--clearance",
        "CONFIDENTIAL",
        "--purpose",
        "investigation:CASE-1",
        "--ttl",
        "120",
    )
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    claims = jwt.decode(token, options={"verify_signature": False})
    settings = get_settings()
    assert claims["iss"] == settings.jwt_issuer and claims["aud"] == settings.jwt_audience
    assert claims["exp"] - claims["iat"] == 120
    assert claims["roles"] == ["investigator"] and claims["level"] == "LEAGUE"
    assert claims["clearance"] == "CONFIDENTIAL" and claims["purpose"] == "investigation:CASE-1"


def test_token_refuses_unknown_role() -> None:
    result = hub_command("token", "--role", "janitor", "--agency", "X", check=False)
    assert result.returncode != 0 and result.stdout == ""
    assert "role must be one of" in result.stderr
