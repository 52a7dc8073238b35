"""The API's kept answers (hub/http/response_cache.py) against the real API, Neo4j and Redis: a
repeated lookup is served from the cache, identical and audited under its own caller; and once
a change is acknowledged (a record published, then repaired; a listing repaired; a subject's
disclosure narrowed by an import) the very next lookup shows it, never the kept answer."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import jwt
import redis as redis_lib

from connectors.coordination.freshness import GENERATION_KEY
from hub.http.response_cache import ANSWERS_KEY
from hub.keys import dev_jwt_secret
from hub.settings import get_settings
from tests.audit import audit_trail
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    import_file,
    mint,
    partner_claims,
    redis_stopped,
    unit_token,
)
from tests.subjects import fresh_subjects, land_penalty

UNIT = "NMG152201"
LOOKUP = """query($c: String!) { subject(creditCode: $c) {
  creditCode name grade records { id status } sanctions { id listing status } } }"""
SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id status } }"
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { status } }"
LIST = """mutation($c: String!, $why: String!, $doc: String!) {
  listAbnormal(creditCode: $c, reason: $why, document: $doc) { sanctionId status } }"""
APPLY = """mutation($s: String, $r: String, $why: String!, $p: [ProofInput!]!) {
  applyForRepair(sanctionId: $s, recordId: $r, statement: $why, proofs: $p) { id } }"""
ACCEPT = """mutation($id: String!) { acceptRepair(id: $id, accept: true) { status } }"""
DECIDE = """mutation($id: String!, $why: String) {
  decideRepair(id: $id, grant: true, reason: $why) { status } }"""
STATEMENT = "本公司已全面整改，履行全部法定义务，申请信用修复。"
PROOFS: list[object] = [
    {"kind": "FULFILMENT", "text": "罚款已缴清，缴款书编号 FK-2026-009"},
    {"kind": "COMMITMENT", "text": "本公司承诺依法依规开采，不再越界"},
]


def _classify(code: str, disclosure: str) -> None:
    """The department's import sets the subject's disclosure class (the rest as it was)."""
    row = {
        "kind": "Subject", "creditCode": code, "name": f"推送测试{code[-5:-1]}号矿业有限公司",
        "subjectKind": "COMPANY", "division": "152201", "status": "ACTIVE",
        "registeredOn": "2015-01-01", "disclosure": disclosure,
    }  # fmt: skip
    path = TEST_DATA / f"classify-{code}.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False), "utf-8")
    import_file(path)


def _teller(name: str) -> str:
    """A token for one named teller of the test bank: same agreement, a name of its own."""
    secret = dev_jwt_secret(get_settings().keys_dir)
    return jwt.encode(partner_claims(sub=name), secret, algorithm="HS256")


def _lookup(client: GraphQLClient, code: str) -> tuple[dict[str, Any], bool]:
    """The subject as ``client`` reads it, and whether the answer was a kept one."""
    response = client.post(LOOKUP, {"c": code})
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]["subject"], response.headers.get("x-cache") == "hit"


def _kept(client: GraphQLClient, code: str) -> dict[str, Any]:
    """Ask twice: the second answer must be the kept first one, byte for byte."""
    first = client.post(LOOKUP, {"c": code})
    second = client.post(LOOKUP, {"c": code})
    assert "x-cache" not in first.headers and second.headers.get("x-cache") == "hit"
    assert second.content == first.content
    return first.json()["data"]["subject"]  # type: ignore[no-any-return]


def test_a_kept_answer_is_identical_audited_and_not_shared_across_clearances(api: str) -> None:
    ((code, _),) = fresh_subjects(1)
    _classify(code, "SHARED")  # partners may read it; the public may not
    bank = GraphQLClient(api, _teller("cache-teller-1"))
    seen = _kept(bank, code)
    assert seen["creditCode"] == code and seen["records"]
    # Another teller of the bank, same agreement: served the kept answer, audited as itself.
    other = GraphQLClient(api, _teller("cache-teller-2"))
    again, hit = _lookup(other, code)
    assert hit and again == seen
    # The public's read scope is narrower: never a partner's kept answer.
    for _ in range(2):
        public = httpx.post(f"{api}/graphql", json={"query": LOOKUP, "variables": {"c": code}})
        assert public.json() == {"data": {"subject": None}}
    reads = [
        e["principal"]
        for e in audit_trail(api, code, "field principal decision")
        if e["field"] == "subject"
    ]
    assert reads.count("cache-teller-1") == 2 and reads.count("cache-teller-2") == 1


def test_a_published_then_repaired_record_is_never_served_from_before(api: str) -> None:
    ((code, _),) = fresh_subjects(1)
    bank = GraphQLClient(api, _teller("cache-teller-3"))
    before = _kept(bank, code)
    submitter = GraphQLClient(api, unit_token("submitter", UNIT, "cache-clerk"))
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "cache-reviewer"))
    record = land_penalty(code, "C", date(2026, 4, 1))
    record_id = submitter.data(SUBMIT, {"r": record})["submitRecord"]["id"]  # type: ignore[index]
    pending, hit = _lookup(bank, code)
    assert pending["records"] == before["records"]  # a submission is nobody's news yet
    assert reviewer.data(APPROVE, {"id": record_id})["approveRecord"]["status"] == "PUBLISHED"  # type: ignore[index]
    published, hit = _lookup(bank, code)
    assert not hit and {"id": record_id, "status": "PUBLISHED"} in published["records"]
    again, hit = _lookup(bank, code)
    assert hit and again == published  # kept again, until the next change

    me = GraphQLClient(api, mint("subject", agency=code, credit_code=code, clearance="PUBLIC"))
    filed = me.data(APPLY, {"r": record_id, "why": STATEMENT, "p": PROOFS})["applyForRepair"]
    reviewer.data(ACCEPT, {"id": filed["id"]})  # type: ignore[index]
    granted = reviewer.data(DECIDE, {"id": filed["id"], "why": "罚款已缴清，准予修复"})  # type: ignore[index]
    assert granted["decideRepair"]["status"] == "GRANTED"  # type: ignore[index]
    repaired, hit = _lookup(bank, code)
    assert not hit
    assert {"id": record_id, "status": "PUBLISHED"} not in repaired["records"]


def test_a_repaired_listing_is_never_served_from_before(api: str) -> None:
    ((code, _),) = fresh_subjects(1)
    bank = GraphQLClient(api, _teller("cache-teller-4"))
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "cache-reviewer-2"))
    args = {"c": code, "why": "未按期公示勘查开采信息", "doc": f"乌自然资异〔2026〕C{code[-4:]}号"}
    sanction = reviewer.data(LIST, args)["listAbnormal"]["sanctionId"]  # type: ignore[index]
    listed = _kept(bank, code)
    assert {"id": sanction, "listing": "ABNORMAL_OPERATION", "status": "ACTIVE"} in listed[
        "sanctions"
    ]
    me = GraphQLClient(api, mint("subject", agency=code, credit_code=code, clearance="PUBLIC"))
    filed = me.data(APPLY, {"s": sanction, "why": STATEMENT, "p": PROOFS})["applyForRepair"]
    reviewer.data(ACCEPT, {"id": filed["id"]})  # type: ignore[index]
    reviewer.data(DECIDE, {"id": filed["id"], "why": "已补报年度信息，准予修复"})  # type: ignore[index]
    after, hit = _lookup(bank, code)
    assert not hit
    assert {"id": sanction, "listing": "ABNORMAL_OPERATION", "status": "ACTIVE"} not in after[
        "sanctions"
    ]


def test_a_narrowed_disclosure_is_never_served_from_before(api: str) -> None:
    """The department's import makes a subject RESTRICTED: a SHARED partner's very next lookup
    finds nothing, as for an unknown code, though the wider answer was kept a moment ago."""
    ((code, _),) = fresh_subjects(1)
    bank = GraphQLClient(api, _teller("cache-teller-5"))
    assert _kept(bank, code)["creditCode"] == code
    _classify(code, "RESTRICTED")
    response = bank.post(LOOKUP, {"c": code})
    assert "x-cache" not in response.headers
    assert response.json() == {"data": {"subject": None}}


def test_an_answer_kept_before_a_redis_restart_is_not_served_after_it(api: str) -> None:
    """Redis may come back without its last second of writes: the generation it hands back may
    be the one a kept answer carries though the graph changed since. So after a restart the API
    moves the generation on before it serves anything kept."""
    ((code, _),) = fresh_subjects(1)
    bank = GraphQLClient(api, _teller("cache-teller-7"))
    _kept(bank, code)
    client = redis_lib.Redis.from_url(get_settings().redis_url)
    generation = client.get(GENERATION_KEY)
    with redis_stopped():
        pass
    # What a lost second would look like: the kept answer, of the generation Redis holds.
    assert client.get(GENERATION_KEY) == generation
    assert client.hget(ANSWERS_KEY, "#generation") == generation
    _, hit = _lookup(bank, code)
    assert not hit
    assert int(client.get(GENERATION_KEY)) > int(generation)
    _kept(bank, code)  # and answers are kept again


def test_a_connection_made_again_to_the_same_redis_keeps_the_answers(api: str) -> None:
    """A connection dropped and made again to the same Redis (a command cancelled with its
    request, a pool growing) lost nothing: kept answers are still served. Only another server
    (a restart, a replica) moves the generation on; under load, moving it at every new
    connection threw every kept answer away several times a minute."""
    ((code, _),) = fresh_subjects(1)
    bank = GraphQLClient(api, _teller("cache-teller-8"))
    _kept(bank, code)
    client = redis_lib.Redis.from_url(get_settings().redis_url)
    generation = client.get(GENERATION_KEY)
    connections = [c for c in client.client_list() if c.get("name") == "hub-api"]
    assert connections, "the API's connections are named hub-api"
    for connection in connections:
        client.client_kill_filter(_id=connection["id"])
    assert not [c for c in client.client_list() if c.get("name") == "hub-api"]
    _, hit = _lookup(bank, code)
    assert hit
    assert client.get(GENERATION_KEY) == generation
    assert [c for c in client.client_list() if c.get("name") == "hub-api"]  # made again
