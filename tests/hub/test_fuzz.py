"""A bounded schemathesis fuzz of every root field: no 5xx, no unmasked or uncoded error."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from hub.api.schema import schema as hub_schema
from hub.errors import Code
from tests.conftest import mint

SCHEMA = schemathesis.graphql.from_file(hub_schema.as_str())
CODES = {c.value for c in Code} - {Code.INTERNAL.value}


@SCHEMA.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzed_queries_get_coded_answers(case: schemathesis.Case, api: str) -> None:
    token = mint("admin", agency="NMG150000")  # the role that may call every root field
    response = case.call(base_url=f"{api}/graphql", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, response.text
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in CODES, error
        assert "Traceback" not in error["message"]
