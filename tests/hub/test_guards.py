"""The hardened surface, as the graphql-cop scanner probes it, against the real API."""

from __future__ import annotations

import time
from dataclasses import replace

import httpx
import pytest
import redis.asyncio as aioredis

from hub.api.guards import Refusal, check_cached_fields
from hub.api.rate import spend
from hub.api.schema import graphql_schema
from policies.limits import AnswerCache, default_limits
from policies.loader import PolicyError
from policies.principal import Clearance, Principal
from tests.conftest import GraphQLClient, mint

ME = "{ me { agency } }"


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def test_alias_overloading_is_refused(partner: GraphQLClient) -> None:
    many = " ".join(f"a{i}: me {{ agency }}" for i in range(16))
    assert _code(partner.post(f"{{ {many} }}")) == "LIMIT_EXCEEDED"
    few = " ".join(f"a{i}: me {{ agency }}" for i in range(15))
    assert partner.data(f"{{ {few} }}")["a14"] == {"agency": "BANK-TEST"}


def test_batching_is_off(api: str) -> None:
    response = httpx.post(
        f"{api}/graphql",
        json=[{"query": ME}, {"query": ME}],
        headers={"Authorization": f"Bearer {mint()}"},
    )
    assert response.status_code == 400 and _code(response) == "BAD_USER_INPUT"


def test_introspection_only_for_internal_roles(api: str) -> None:
    query = "{ __schema { queryType { name } } }"
    assert _code(GraphQLClient(api, mint("partner")).post(query)) == "FORBIDDEN"
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    assert admin.data(query) == {"__schema": {"queryType": {"name": "Query"}}}
    assert GraphQLClient(api, mint()).data("{ __typename }") == {"__typename": "Query"}


def test_circular_introspection_is_too_deep(api: str) -> None:
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    deep = "{ __schema { types { fields { type { fields { type { fields { type { fields " + (
        "{ name } } } } } } } } } }"
    )
    assert _code(admin.post(deep)) == "LIMIT_EXCEEDED"


def test_directive_overloading_is_refused(partner: GraphQLClient) -> None:
    directives = " ".join("@include(if: true)" for _ in range(11))
    assert _code(partner.post(f"{{ me {{ agency {directives} }} }}")) == "LIMIT_EXCEEDED"


def test_field_duplication_hits_the_token_limit(partner: GraphQLClient) -> None:
    response = partner.post("{ me { " + "agency " * 1000 + "} }")
    assert _code(response) == "LIMIT_EXCEEDED"
    assert "tokens" in response.json()["errors"][0]["message"]


def test_cost_is_estimated_before_execution(partner: GraphQLClient) -> None:
    page = "subjects(first: 100) { edges { node { creditCode name division { code name } } } }"
    costly = " ".join(f"p{i}: {page}" for i in range(10))
    response = partner.post(f"{{ {costly} }}")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert (
        error["extensions"]["cost"]
        > error["extensions"]["budget"]
        == default_limits().budget["partner"]
    )
    assert "data" not in response.json() or response.json()["data"] is None


@pytest.mark.parametrize("size", ["-99999999999999999999999", "-5", "0"])
def test_a_negative_page_is_refused_not_a_refund(partner: GraphQLClient, size: str) -> None:
    """A page size below 1 is charged as the default page: it neither refunds the client's rate
    window with a negative cost nor overflows the Redis counter (which answered 503)."""
    response = partner.post(f"{{ subjects(first: {size}) {{ edges {{ cursor }} }} }}")
    assert response.status_code == 200
    assert _code(response) == "BAD_USER_INPUT"


def test_graphiql_is_not_served_outside_development(api: str) -> None:
    page = httpx.get(f"{api}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 405


def test_no_trace_or_stack_in_errors(partner: GraphQLClient) -> None:
    response = partner.post(ME, {"unexpected": {"deep": [1, 2]}})
    body = response.json()
    assert "tracing" not in str(body.get("extensions", {}))
    bad_variable = partner.post(
        "query($n: Int) { subjects(first: $n) { edges { cursor } } }", {"n": "many"}
    ).json()
    error = bad_variable["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in str(bad_variable) and 'File "' not in str(bad_variable)


async def test_rate_limit_holds_across_clients_in_redis(redis_server: str) -> None:
    limits = replace(default_limits(), rate_units={**default_limits().rate_units, "partner": 100})
    bank = Principal(
        "bank-1", "iss", "BANK", "PARTNER", "150000", frozenset({"partner"}), Clearance.SHARED
    )
    first, second = aioredis.from_url(redis_server), aioredis.from_url(redis_server)
    now = time.time()
    try:
        await spend(first, bank, 60, limits, now)  # as if from one API process
        with pytest.raises(Refusal) as refused:
            await spend(second, bank, 60, limits, now)  # and from another
        assert refused.value.extensions["retryAfter"] >= 1
        other = replace(bank, subject="bank-2")
        await spend(second, other, 60, limits, now)  # another client has its own budget
    finally:
        await first.aclose()
        await second.aclose()


def test_only_root_query_fields_may_have_their_answers_kept() -> None:
    """A kept mutation answer would report a write that never happened: the API refuses to
    start with one, or with a name the schema lacks."""
    check_cached_fields(graphql_schema(), default_limits())  # the shipped list
    for name in ("approveRecord", "subjectz"):
        limits = replace(default_limits(), cache=AnswerCache(frozenset({"subject", name}), 10, 1))
        with pytest.raises(PolicyError, match=f"cache.fields: {name} is not a root query field"):
            check_cached_fields(graphql_schema(), limits)
