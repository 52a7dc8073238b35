"""A subject's token speaks for one company only: its creditCode must be valid and equal to its
agency, it carries the subject role alone at level SUBJECT, and no other caller may carry a code
(which would otherwise widen what a unit or a partner reads)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hub.http.auth.claims import AuthError, claims_to_principal

CODE = "91152201MA0PHX0105"  # a valid code (the demo graph's planted phoenix company)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": "credit-hub-dev",
        "aud": "credit-hub",
        "sub": f"{CODE}:subject",
        "iat": now,
        "exp": now + 600,
        "agency": CODE,
        "level": "SUBJECT",
        "division": "150000",
        "roles": ["subject"],
        "clearance": "PUBLIC",
        "creditCode": CODE,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_subject_token_names_the_company_it_speaks_for() -> None:
    principal = claims_to_principal(claims())
    assert principal.own_code() == CODE
    assert principal.roles == {"subject"} and principal.level == "SUBJECT"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"creditCode": None}, "must carry claim 'creditCode'"),
        ({"creditCode": "91152201MA0PHX0106"}, "not a valid unified social credit code"),
        ({"creditCode": 91152201}, "must carry claim 'creditCode'"),
        ({"agency": "91152201079123010F"}, "must be its code"),
        ({"creditCode": "91152201079123010F"}, "must be its code"),
        ({"roles": ["subject", "reviewer"]}, "role 'subject' only"),
        ({"level": "PARTNER"}, "role 'subject' only"),
        ({"level": "BANNER"}, "role 'subject' only"),
    ],
)
def test_a_subject_token_that_says_more_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(AuthError, match=message):
        claims_to_principal(claims(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"roles": ["partner"], "level": "PARTNER", "agency": "BANK-X", "clearance": "SHARED"},
        {"roles": ["reviewer"], "level": "BANNER", "agency": "NMG150102", "division": "150102"},
    ],
)
def test_no_other_caller_may_carry_a_credit_code(changes: dict[str, Any]) -> None:
    with pytest.raises(AuthError, match="belongs to a subject's token only"):
        claims_to_principal(claims(**changes))
    assert claims_to_principal(claims(creditCode=None, **changes)).own_code() is None
