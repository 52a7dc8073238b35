"""The published contract: each role's SDL (hub schema, docs/schema/, GET /schema.graphql), and a
partner's typed client built from it with a standard tool (Python gql), which validates the
partner's queries locally and runs them against the real API."""

from __future__ import annotations

import httpx
import pytest
from gql import Client, gql
from gql.dsl import DSLQuery, DSLSchema, dsl_gql
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError, build_schema

from hub.api.contract import role_sdl
from hub.cli.schema import REFRESH
from policies.access import POLICY_FILE, default_policy, parse_policy
from tests.conftest import PROJECT_ROOT, GraphQLClient, free_port, hub_command, mint

DOCS = PROJECT_ROOT / "docs" / "schema"
SUBJECT = """
query($code: String!) {
  subject(creditCode: $code) {
    creditCode
    name
    grade
    legalRepresentative { name idMasked }
    records { id disclosure }
  }
}
"""
# What a partner's token may not have (root fields of other roles, fields above SHARED), and a
# role whose contract holds it.
OUTSIDE = {
    "network": ('{ network(creditCode: "X") { nodes { id } } }', "investigator"),
    "contacts": ('{ subject(creditCode: "X") { contacts { phones } } }', "admin"),
    "idNumber": (
        '{ subject(creditCode: "X") { legalRepresentative { idNumber } } }',
        "investigator",
    ),
    "approveRecord": ('mutation { approveRecord(id: "R-1") { status } }', "reviewer"),
}


def _roles() -> list[str]:
    roles = sorted(default_policy().roles)
    assert roles, "access.yaml defines no role"
    return roles


@pytest.mark.parametrize("role", _roles())
def test_committed_contracts_match_the_code(role: str) -> None:
    committed = DOCS / f"{role}.graphql"
    current = role_sdl(default_policy(), [role])
    assert committed.is_file() and committed.read_text(encoding="utf-8") == current, (
        f"docs/schema/{role}.graphql is not the contract the code gives {role}: "
        f"run `{REFRESH}` and commit the result"
    )


def test_the_command_prints_the_committed_contract() -> None:
    printed = hub_command("schema", "--role", "partner").stdout
    assert printed == (DOCS / "partner.graphql").read_text(encoding="utf-8")
    refused = hub_command("schema", "--role", "nobody", check=False)
    assert refused.returncode == 1 and "roles must be among" in refused.stderr


def test_a_contract_holds_the_roles_root_fields_and_no_field_above_its_ceiling() -> None:
    policy = default_policy()
    assert policy.root_fields
    for role in _roles():
        contract = build_schema(role_sdl(policy, [role]))
        roots = set(contract.query_type.fields) if contract.query_type else set()
        if contract.mutation_type is not None:
            roots |= set(contract.mutation_type.fields)
        assert roots == {f for f, who in policy.root_fields.items() if role in who}, role
    partner = build_schema(role_sdl(policy, ["partner"]))
    assert "contacts" not in partner.get_type("Subject").fields  # type: ignore[union-attr]
    assert "idNumber" not in partner.get_type("Person").fields  # type: ignore[union-attr]
    assert partner.get_type("Contacts") is None  # reached only through Subject.contacts
    assert partner.get_type("AuditEvent") is None and partner.get_type("Network") is None
    investigator = build_schema(role_sdl(policy, ["investigator"]))
    assert "idNumber" in investigator.get_type("Person").fields  # type: ignore[union-attr]


def test_a_type_left_without_fields_leaves_the_contract_whole() -> None:
    """An operator who shares Subject.contacts but keeps every contact RESTRICTED: the partner's
    contract drops the empty Contacts and the field leading to it, and stays a valid schema."""
    text = POLICY_FILE.read_text(encoding="utf-8")
    shared = text.replace("    contacts: RESTRICTED", "    contacts: SHARED", 1)
    assert shared != text
    contract = build_schema(role_sdl(parse_policy(shared), ["partner"]))
    assert contract.get_type("Contacts") is None
    assert "contacts" not in contract.get_type("Subject").fields  # type: ignore[union-attr]
    assert "creditCode" in contract.get_type("Subject").fields  # type: ignore[union-attr]


def _fetch(api: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{api}/schema.graphql", headers=headers, timeout=15)


def test_a_token_fetches_its_own_contract_and_the_fetch_is_audited(api: str) -> None:
    fetched = _fetch(api, mint("partner", agency="BANK-CONTRACT"))
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"].startswith("text/plain")
    assert fetched.text == (DOCS / "partner.graphql").read_text(encoding="utf-8")
    investigator = _fetch(api, mint("investigator"))
    assert investigator.text == (DOCS / "investigator.graphql").read_text(encoding="utf-8")

    hub_command("audit", "drain")
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    trail = admin.data(
        """{ auditTrail(agency: "BANK-CONTRACT", first: 100) { field decision released } }"""
    )["auditTrail"]
    assert {"field": "GET /schema.graphql", "decision": "ALLOW", "released": ["partner"]} in trail  # type: ignore[operator]


def test_no_token_no_contract(api: str) -> None:
    refused = _fetch(api, None)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "type Query" not in refused.text
    forged = _fetch(api, mint("partner") + "x")
    assert forged.status_code == 401 and "type Query" not in forged.text


def _client(api: str, token: str) -> Client:
    """The partner's client, typed by the contract its own token fetched."""
    sdl = _fetch(api, token).text
    transport = HTTPXTransport(
        url=f"{api}/graphql", headers={"Authorization": f"Bearer {token}"}, timeout=15
    )
    return Client(schema=sdl, transport=transport)


def test_a_partner_client_built_from_its_contract_runs_its_queries(api: str, code: str) -> None:
    token = mint("partner", agency="BANK-GQL")
    with _client(api, token) as session:
        me = session.execute(gql("{ me { agency roles } }"))
        assert me == {"me": {"agency": "BANK-GQL", "roles": ["partner"]}}
        request = gql(SUBJECT)
        request.variable_values = {"code": code}
        subject = session.execute(request)["subject"]
        assert subject["creditCode"] == code
        assert subject["legalRepresentative"]["idMasked"].startswith("1522")
        assert {r["disclosure"] for r in subject["records"]} == {"PUBLIC", "SHARED"}

        # The same contract types gql's query builder: fields are attributes of the schema.
        ds = DSLSchema(session.client.schema)  # type: ignore[arg-type]
        built = dsl_gql(
            DSLQuery(
                ds.Query.subject.args(creditCode=code).select(ds.Subject.name, ds.Subject.grade),
                ds.Query.subjects.args(first=5, filter={"name": subject["name"]}).select(
                    ds.SubjectConnection.edges.select(
                        ds.SubjectEdge.node.select(ds.SubjectSummary.creditCode)
                    )
                ),
            )
        )
        typed = session.execute(built)
        assert typed["subject"]["name"] == subject["name"]
        assert code in [e["node"]["creditCode"] for e in typed["subjects"]["edges"]]
        with pytest.raises(AttributeError):
            ds.Query.network  # noqa: B018  (not in the partner's contract)


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_a_query_outside_the_partner_contract_fails_locally(api: str, name: str) -> None:
    """Refused before sending: the client's transport points at a closed port, so anything but
    a local validation error would be a transport failure. The role that may send it can."""
    query, role = OUTSIDE[name]
    closed = HTTPXTransport(url=f"http://127.0.0.1:{free_port()}/graphql", timeout=2)
    partner = Client(schema=_fetch(api, mint("partner")).text, transport=closed)
    with partner as session, pytest.raises(GraphQLError):
        session.execute(gql(query))
    Client(schema=_fetch(api, mint(role)).text).validate(gql(query))


def test_the_server_refuses_what_the_contract_leaves_out(api: str, code: str) -> None:
    """The contract is not wider than the API: its left-out root field is FORBIDDEN, its
    left-out fields answer null and are named as redacted."""
    partner = GraphQLClient(api, mint("partner"))
    body = partner.post(OUTSIDE["network"][0].replace('"X"', f'"{code}"')).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = partner.post(OUTSIDE["contacts"][0].replace('"X"', f'"{code}"')).json()
    assert body["data"]["subject"]["contacts"] is None
    assert "subject.contacts" in body["extensions"]["redacted"]
