"""Issue 11.4, cost: what an outsider can send to exhaust the service, against the real API.

The estimate charges what a query will really do (variable and schema defaults, the Neo4j work
of mostExposed and network), refused documents still spend the client's rate and stay out of
the parse caches, and a partner's full feed page fits its budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from strawberry.extensions.parser_cache import DEFAULT_MAXSIZE, _get_parse_cache

from connectors.signing import new_credentials
from graph.db import Store
from graph.exchange.partners import Keys, register
from graph.records.listings import publish_listing
from hub.api.guards import SHAPES, cost, shape
from hub.api.schema import graphql_schema
from hub.http.app import create_app
from hub.settings import get_settings
from policies.credit.measures import default_measures
from policies.credit.rating import Consequence
from policies.credit.rating_file import default_model
from policies.limits import LIMITS_FILE, Limits, default_limits, parse_limits
from policies.targets import TargetRule
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    early_in_rate_window,
    free_port,
    mint,
    start_api,
)
from tests.listings import serious_listing
from tests.subjects import fresh_subjects

LIMITS = default_limits()
INVESTIGATOR_BUDGET = LIMITS.budget["investigator"]
SUBJECTS = """query($n: Int = 100) { %s }"""
PAGE_NODE = "{ creditCode name kind status grade }"
PAGE = f"subjects(first: $n) {{ edges {{ node {PAGE_NODE} }} }}"
AUDIT = """{ auditTrail(agency: "NMG150000") {
  seq at requestId principal agency action field decision hash } }"""
FEED = """{ sanctionFeed(first: 100) {
  entries { cursor version op eventId sanctionId creditCode name listing status startDate
            endDate at measures { code name basis } grade previousGrade
            consequences { code name } }
  endCursor hasNextPage } }"""
NETWORK = """%s: network(creditCode: $c, depth: 4, limit: 500) {
  nodes { id kind key label status grade sanctioned hub }
  edges { kind source target since until share role } truncated capped }"""
NETWORKS = "query($c: String!) { %s }"
SMALL = {"admin_budget": 800, "partner_rate": 1000}  # the small API's limits


def _expected(query: str, variables: dict[str, Any], limits: Limits = LIMITS) -> int:
    """The estimate computed in this process from the same policy, to compare with the API's."""
    return cost(shape(query, limits.tokens), graphql_schema(), variables, limits)


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


def _small_limits() -> str:
    text = LIMITS_FILE.read_text(encoding="utf-8")
    for old, new in (
        ("    admin: 50000\n", f"    admin: {SMALL['admin_budget']}\n"),
        ("    partner: 100000\n", f"    partner: {SMALL['partner_rate']}\n"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def small_api(api: str) -> Iterator[str]:
    """Another real API whose admins have a small budget and partners a small rate."""
    file = TEST_DATA / "cost-limits.yaml"
    file.write_text(_small_limits(), encoding="utf-8")
    port = free_port()
    proc = start_api(port, "api-cost", HUB_LIMITS_FILE=str(file))
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=15)


def test_a_variable_default_is_charged_as_its_value(partner: GraphQLClient) -> None:
    """`query($n: Int = 100)` sent without `n` runs 100 a page: charged 100, not 20."""
    query = SUBJECTS % " ".join(f"p{i}: {PAGE}" for i in range(10))
    at_100, at_20 = _expected(query, {"n": 100}), _expected(query, {"n": 20})
    budget = LIMITS.budget["partner"]
    assert at_20 <= budget < at_100
    error = _error(partner.post(query))
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["cost"] == at_100 and error["extensions"]["budget"] == budget
    assert "p9" in partner.data(query, {"n": 20})  # a page of 20 fits and runs


def test_an_omitted_argument_is_charged_at_its_schema_default(small_api: str) -> None:
    """auditTrail's `first` defaults to 100 in the schema; left out, it is charged 100."""
    small = parse_limits(_small_limits())
    at_100 = _expected(AUDIT, {}, small)
    at_20 = _expected(AUDIT.replace('"NMG150000")', '"NMG150000", first: 20)'), {}, small)
    assert at_20 <= SMALL["admin_budget"] < at_100
    admin = GraphQLClient(small_api, mint("admin", agency="NMG150000"))
    error = _error(admin.post(AUDIT))
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["cost"] == at_100


def test_most_exposed_is_priced_by_depth_and_reach(api: str) -> None:
    """The region-wide walk at depth 4 (seconds of Neo4j) is refused; a league's runs."""
    investigator = GraphQLClient(api, mint("investigator", agency="NMG150000"))
    region = '{ mostExposed(division: "150000", depth: 4) { creditCode } }'
    error = _error(investigator.post(region))
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["cost"] == _expected(region, {}) > INVESTIGATOR_BUDGET
    assert error["extensions"]["budget"] == INVESTIGATOR_BUDGET
    via_variable = "query($d: String!) { mostExposed(division: $d, depth: 4) { creditCode } }"
    assert (
        _error(investigator.post(via_variable, {"d": "150000"}))["extensions"]["cost"]
        == (error["extensions"]["cost"])
    )
    assert "mostExposed" in investigator.data('{ mostExposed(division: "152200") { creditCode } }')


def test_deep_networks_are_priced_by_depth_and_limit(api: str, code: str) -> None:
    """One depth-4, 500-node network fits an investigator's budget; two in a document do not."""
    investigator = GraphQLClient(api, mint("investigator", agency="NMG150000"))
    one = NETWORKS % (NETWORK % "a")
    assert _expected(one, {"c": code}) <= INVESTIGATOR_BUDGET
    assert investigator.data(one, {"c": code})["a"]["nodes"]  # type: ignore[index]
    two = NETWORKS % (NETWORK % "a" + " " + NETWORK % "b")
    error = _error(investigator.post(two, {"c": code}))
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["cost"] == _expected(two, {"c": code}) > INVESTIGATOR_BUDGET
    shallow = _expected(one.replace("depth: 4", "depth: 1"), {"c": code})
    small = _expected(one.replace("limit: 500", "limit: 50"), {"c": code})
    assert shallow * 3 < _expected(one, {"c": code}) and small * 3 < _expected(one, {"c": code})


def test_refused_documents_spend_the_rate(small_api: str) -> None:
    """Each refusal costs `cost.refusal` units: past the window's units the client gets 429."""
    small = parse_limits(_small_limits())
    refusals = SMALL["partner_rate"] // small.refusal
    assert refusals >= 2
    token = mint(agency="BANK-COST-RATE")
    early_in_rate_window()
    attacks = [
        "{ me { agency " * 20 + "} " * 40,  # too deep
        "{ me { " + "agency " * 1000 + "} }",  # too many tokens
        "{ __schema { types { name } } }",  # introspection
        "{ me { agency }",  # a syntax error
    ]
    answers = [
        GraphQLClient(small_api, token).post(attacks[i % len(attacks)]) for i in range(refusals)
    ]
    assert [a.status_code for a in answers] == [200] * refusals
    assert all(_error(a)["extensions"]["code"] != "INTERNAL" for a in answers)
    limited = GraphQLClient(small_api, token).post(attacks[0])
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "rate limit" in _error(limited)["message"]


def test_refused_documents_stay_out_of_the_parse_caches(
    neo4j_server: object, redis_server: str, migrated: None
) -> None:
    """Refused documents fill neither the guards' shape cache nor Strawberry's parser cache;
    an accepted one enters both. The app runs in this process so both caches can be read."""
    parsed = _get_parse_cache(DEFAULT_MAXSIZE)
    headers = {"Authorization": f"Bearer {mint(agency='BANK-COST-CACHE')}"}
    costly = " ".join(f"s{i}: {PAGE.replace('$n', '100')}" for i in range(11))
    refused = [
        "{ me { agency " * 12 + "} " * 24,  # too deep
        "{ " + " ".join(f"a{i}: me {{ agency }}" for i in range(16)) + " }",  # aliases
        "{ " + costly + " }",  # over a partner's budget
    ]
    with TestClient(create_app(get_settings())) as client:
        shapes, strawberry = len(SHAPES), parsed.cache_info().currsize
        for number, query in enumerate(refused):
            body = client.post("/graphql", json={"query": query}, headers=headers).json()
            assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED", (number, body)
        assert len(SHAPES) == shapes and parsed.cache_info().currsize == strawberry
        accepted = "{ me { agency division } }"
        body = client.post("/graphql", json={"query": accepted}, headers=headers).json()
        assert body["data"] == {"me": {"agency": "BANK-COST-CACHE", "division": "150000"}}
        assert len(SHAPES) == shapes + 1 and parsed.cache_info().currsize == strawberry + 1


def test_the_measures_bound_holds_for_the_catalogue() -> None:
    """The feed's measures are charged at `list_sizes`; the catalogue must not outgrow it."""
    catalogue = default_measures()
    listings = {listing for m in catalogue.measures.values() for listing in m.listings}
    assert listings
    most = max(len(catalogue.for_listing(listing)) for listing in listings)
    assert LIMITS.list_sizes["FeedEntry.measures"] >= most
    assert LIMITS.list_sizes["Sanction.measures"] >= most


def test_the_feed_consequences_bound_holds_for_the_rating_model() -> None:
    """A GRADE entry lists the consequences partners act on: its class's and its listings'."""
    model = default_model()

    def acted(groups: Iterable[tuple[Consequence, ...]]) -> list[int]:
        return [len([c for c in group if c.partners]) for group in groups]

    classes = acted(model.consequences.classes.values())
    assert max(classes) > 0
    most = max(classes) + sum(acted(model.consequences.listings.values()))
    assert LIMITS.list_sizes["FeedEntry.consequences"] >= most


async def test_a_partner_fetches_a_full_feed_page(api: str, store: Store) -> None:
    """sanctionFeed(first: 100) with every entry field and its measures fits a partner."""
    assert _expected(FEED, {}) <= LIMITS.budget["partner"]
    keys = new_credentials("HMAC_SHA256")
    catalogue = default_measures()
    await register(
        store,
        catalogue,
        {
            "code": "PF-COST",
            "name": "矿业权交易平台",
            "kind": "LAND_MINING",
            "events": ["sanction.listed"],
        },
        Keys(keys.scheme, keys.signing, keys.verifying),
        targets=TargetRule(public_only=False, https_only=True),
    )
    [(subject, record)] = fresh_subjects(1)
    decision = serious_listing("S-COST-1", subject, record)
    await publish_listing(store, catalogue, decision)
    bank = GraphQLClient(api, mint("partner", agency="PF-COST"))
    entries = bank.data(FEED)["sanctionFeed"]["entries"]  # type: ignore[index]
    assert entries and any(e["measures"] for e in entries)


SCREEN = """query($c: [String!]!) { subjectsByCode(creditCodes: $c) {
  creditCode name status grade rating { grade score } sanctions { listing measures status } } }"""
FULL_LOOKUP = """query($c: [String!]!) { subjectsByCode(creditCodes: $c) {
  creditCode name status division { code name } legalRepresentative { name idMasked }
  rating { grade score } records { id item tier decidedOn } sanctions { listing measures } } }"""


def test_a_batch_costs_its_lookups_and_a_partner_screens_100(partner: GraphQLClient) -> None:
    """subjectsByCode is priced per code, as many single lookups of the same fields; a
    screening selection of 100 codes fits a partner's budget, a full lookup's does not."""
    [(code, _)] = fresh_subjects(1)
    single = SCREEN.replace("$c: [String!]!", "$c: String!").replace(
        "subjectsByCode(creditCodes: $c)", "subject(creditCode: $c)"
    )
    one = _expected(single, {"c": code})
    assert _expected(SCREEN, {"c": [code]}) == one
    hundred = _expected(SCREEN, {"c": [code] * 100})
    assert hundred - 1 == 100 * (one - 1)
    assert hundred <= LIMITS.budget["partner"] < _expected(FULL_LOOKUP, {"c": [code] * 100})
    # Past 100 codes the field refuses before reading: charged as 100, never more or less.
    assert _expected(SCREEN, {"c": [code] * 5000}) == hundred
    assert _expected(SCREEN, {"c": code}) == hundred  # not a list: the most it could be
    answers = partner.data(SCREEN, {"c": [code] * 100})["subjectsByCode"]
    assert isinstance(answers, list) and len(answers) == 100 and answers[0]["creditCode"] == code
    error = _error(partner.post(FULL_LOOKUP, {"c": [code] * 100}))
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["cost"] == _expected(FULL_LOOKUP, {"c": [code] * 100})


def test_a_cost_that_reads_no_argument_is_remembered_only_for_the_same_root_fields() -> None:
    """A lookup's cost is the same for every credit code: remembered, not walked again; but
    a caller who may not call the root field is charged 1, and a page is charged by its size."""
    schema = graphql_schema()
    lookup = shape("query($c: String!) { subject(creditCode: $c) { name records { id } } }", 2000)
    charged = cost(lookup, schema, {"c": "91150000MA0N000010"}, LIMITS)
    assert charged > 1
    assert cost(lookup, schema, {"c": "91150000MA0N00002X"}, LIMITS) == charged
    assert cost(lookup, schema, {"c": "91150000MA0N000010"}, LIMITS, lambda _: False) == 1
    assert cost(lookup, schema, {"c": "91150000MA0N000010"}, LIMITS) == charged
    paged = shape(SUBJECTS % PAGE, 2000)
    assert cost(paged, schema, {"n": 20}, LIMITS) < cost(paged, schema, {"n": 100}, LIMITS)
    assert cost(paged, schema, {"n": 20}, LIMITS) < cost(paged, schema, {}, LIMITS)
