"""Every root field leaves an audit entry, admins' reads included, whatever its resolver does.

The fields are listed from the schema, each called by a role access.yaml lets through; the audit
trail (drained into the chain, as the worker does) must then hold an entry for every one.
Partner-registry writes are sent for a partner that does not exist: they fail inside the
resolver, after the root-field policy let them through, and must be audited all the same.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from graphql import parse, validate

from hub.api.schema import graphql_schema
from policies.access import default_policy
from tests.conftest import GraphQLClient, hub_command, mint, unit_token
from tests.security.test_read_rule import CALLS

FAILING_WRITES = {  # typed right, refused by the resolver: the partner does not exist
    "registerPartner": 'mutation { registerPartner(partner: {code: "AUDIT-COVER", name: "审计",'
    ' kind: "NO-SUCH-KIND", endpoint: "ftp://x", events: ["sanction.published"]})'
    " { partner { code } } }",
    "updatePartner": 'mutation { updatePartner(code: "NO-SUCH-PARTNER", change: {name: "无"})'
    " { code } }",
    "rotatePartnerKeys": 'mutation { rotatePartnerKeys(code: "NO-SUCH-PARTNER")'
    " { partner { code } } }",
    "replayPartner": 'mutation { replayPartner(code: "NO-SUCH-PARTNER", '
    'since: "2026-01-01T00:00:00Z") }',
}
AGENCY = "NMG150000"  # the region's unit: every department role, in its own jurisdiction
SUBJECT = "91110000600037341L"  # a signed-in subject's fields: a valid code the hub does not hold
ASSOCIATION = "XH-CHDL"  # an association's fields: a registered association


def test_every_root_field_is_audited(api: str) -> None:
    fields = set(graphql_schema().query_type.fields) | set(graphql_schema().mutation_type.fields)
    calls = {**CALLS, **FAILING_WRITES}
    assert fields and fields == set(calls), sorted(fields ^ set(calls))
    for field, query in calls.items():  # a document that fails validation never runs
        assert not validate(graphql_schema(), parse(query)), field
    policy = default_policy()
    since = datetime.now(UTC)
    for field, query in sorted(calls.items()):
        roles = sorted(policy.root_fields[field] - {"partner"}) or ["partner"]
        role = roles[0]
        token = unit_token(role, AGENCY, f"audit-{field}") if role != "partner" else None
        if role == "subject":
            token = mint("subject", agency=SUBJECT, credit_code=SUBJECT, clearance="PUBLIC")
        if role == "association":
            token = mint("association", agency=ASSOCIATION, clearance="PUBLIC")
        client = GraphQLClient(api, token or _partner_token())
        response = client.post(query)
        assert response.status_code == 200, (field, response.text)
    hub_command("audit", "drain")
    admin = GraphQLClient(api, unit_token("admin", AGENCY, "audit-reader"))
    query = """query($g: String!, $s: DateTime!, $a: Int) {
      auditTrail(agency: $g, since: $s, afterSeq: $a, first: 100) { seq field } }"""
    seen: set[str] = set()
    for agency in (AGENCY, "BANK-TEST", SUBJECT, ASSOCIATION):
        after = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            variables = {"g": agency, "s": since.isoformat(), "a": after}
            page = admin.data(query, variables)["auditTrail"]
            assert isinstance(page, list)
            if not page:
                break
            seen |= {e["field"] for e in page}
            after = page[-1]["seq"]
    missing = sorted(fields - seen)
    assert not missing, f"root fields that left no audit entry: {missing}"


def _partner_token() -> str:
    return mint("partner")
