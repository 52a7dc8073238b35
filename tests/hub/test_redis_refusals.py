"""Redis refuses a command in the middle of a request (found by `make soak`, where Redis stopped
between a request's rate check and its end): the answer is the outage answer, HTTP 503 with
``Retry-After`` and ``UNAVAILABLE``, not a 200 with ``BAD_USER_INPUT`` or ``INTERNAL``.

The suite's real Redis is made to refuse one command after the request's rate check (INCRBY on
its own keys) has passed, where the soak met the stop: the audit entry (XADD, refused to the
default user by an ACL rule) once the answer is computed, or the cache generation's INCRBY after
a write (the counter holds a value that is no integer).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import redis as redis_lib

from connectors.coordination.freshness import GENERATION_KEY
from tests.conftest import GraphQLClient, mint, unit_token
from tests.subjects import fresh_subjects

LOOKUP = "query($c: String!) { subject(creditCode: $c) { creditCode name } }"
SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id outcome status } }"


@contextmanager
def audit_refused(redis_url: str) -> Iterator[None]:
    """The suite's Redis refuses XADD (the audit stream's) to its default user for the block."""
    client = redis_lib.Redis.from_url(redis_url)
    client.execute_command("ACL", "SETUSER", "default", "-xadd")
    try:
        yield
    finally:
        client.execute_command("ACL", "SETUSER", "default", "+xadd")
        client.close()


@contextmanager
def generation_refused(redis_url: str) -> Iterator[None]:
    """Moving the cache generation on fails for the block; after it, the generation has moved
    on (a write happened meanwhile)."""
    client = redis_lib.Redis.from_url(redis_url)
    before = int(client.get(GENERATION_KEY) or 0)
    client.set(GENERATION_KEY, "not-a-number")
    try:
        yield
    finally:
        client.set(GENERATION_KEY, before + 1)
        client.close()


def _outage(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body.get("data") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAVAILABLE"], body


def test_an_answer_whose_audit_entry_redis_refuses_is_the_outage_answer(
    api: str, redis_server: str
) -> None:
    ((code, _),) = fresh_subjects(1)
    partner = GraphQLClient(api, mint("partner"))
    with audit_refused(redis_server):
        _outage(partner.post(LOOKUP, {"c": code}))
    assert partner.data(LOOKUP, {"c": code})["subject"]["creditCode"] == code  # type: ignore[index]


def test_a_write_whose_cache_generation_redis_refuses_is_the_outage_answer(
    api: str, redis_server: str
) -> None:
    ((code, _),) = fresh_subjects(1)
    clerk = GraphQLClient(api, unit_token("submitter", "NMG152201", "clerk-refusal"))
    record = {
        "item": "ADMIN_PENALTY", "subject": code, "tier": "GENERAL", "title": "违法占地",
        "decidedOn": "2026-10-01", "document": "乌自然资罚〔2026〕RF1号",
        "legalBasis": "土地管理法",
    }  # fmt: skip
    with generation_refused(redis_server):
        _outage(clerk.post(SUBMIT, {"r": record}))
    # The write itself had committed before the refusal: sent again once Redis takes commands,
    # the record is found as the first try stored it (a submission is safe to retry).
    again = clerk.data(SUBMIT, {"r": record})["submitRecord"]
    assert again["outcome"] == "unchanged", again  # type: ignore[index]
