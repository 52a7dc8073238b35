"""A bounded schemathesis fuzz of every root field: no 5xx, no unmasked or uncoded error.

One test per root field, named after it, each drawing its cases from the field's strategy:
schemathesis's own ``parametrize`` gives every field's test the same id, and the suite's
processes (pytest-xdist) tell tests apart by id, so they would run one field and drop the rest."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.api.schema import schema as hub_schema
from hub.errors import Code
from tests.conftest import mint

SCHEMA = schemathesis.graphql.from_file(hub_schema.as_str())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CODES = {c.value for c in Code} - {Code.INTERNAL.value}


def test_every_root_field_is_fuzzed() -> None:
    fields = {o.label for o in OPERATIONS}
    assert (
        len(fields) == len(OPERATIONS) > 70 and {"Query.subject", "Mutation.submitRecord"} <= fields
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.label for o in OPERATIONS])
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_queries_get_coded_answers(
    operation: schemathesis.APIOperation, data: st.DataObject, api: str
) -> None:
    case = data.draw(operation.as_strategy())
    token = mint("admin", agency="NMG150000")  # the role that may call every root field
    response = case.call(base_url=f"{api}/graphql", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, response.text
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in CODES, error
        assert "Traceback" not in error["message"]
