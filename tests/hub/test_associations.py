"""Industry associations through the API: the department records membership, an association
sees its members (rating, listings, PUBLIC and SHARED records) and nothing more of anyone else
than the public does; it files self-discipline actions that wait in review and become records
once approved (an expulsion ends the membership then, not before); a partner registered for it
hears only of its members' listings. Hostile tokens and callers are refused and change nothing.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import jwt
from neo4j import AsyncDriver, AsyncManagedTransaction

from graph.db import Store
from graph.rating import rate_in
from hub.keys import dev_jwt_secret
from hub.settings import get_settings
from policies.credit.measures import Catalogue
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    Workers,
    free_port,
    hub_command,
    import_file,
    mint,
    partner_claims,
    unit_token,
)
from tests.partner_registry import registered_partner, wait_for
from tests.partners import Behaviour, Inbox, PartnerServer
from tests.subjects import fresh_subjects, listed_on

UNIT = "NMG152201"
SURVEY, GEOLOGY = "XH-CHDL", "XH-DZKC"
SET = """mutation($a: String!, $c: String!, $s: Date!) {
  setMembership(association: $a, creditCode: $c, since: $s) {
    association creditCode since until } }"""
END = """mutation($a: String!, $c: String!) {
  endMembership(association: $a, creditCode: $c) { since until } }"""
MEMBER_FIELDS = """creditCode name since grade status
  rating { grade score explanation { code points } }
  sanctions { id listing status } records { id item disclosure status }"""
MEMBER = f"query($c: String!) {{ member(creditCode: $c) {{ {MEMBER_FIELDS} }} }}"
MEMBERS = f"""query($after: String) {{ members(first: 20, after: $after) {{
  edges {{ cursor node {{ {MEMBER_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
SUBJECT = """query($c: String!) { subject(creditCode: $c) {
  creditCode name grade legalRepresentative { name idMasked } records { id item disclosure }
  sanctions { id } rating { grade score explanation { code points } } } }"""
FILE = """mutation($c: String!, $i: SelfDisciplineInput!) {
  recordSelfDiscipline(creditCode: $c, input: $i) {
    id creditCode action decidedOn document reasons record status } }"""
ACTIONS = """{ selfDisciplineActions(first: 100) {
  edges { node { id creditCode action record status } } pageInfo { hasNextPage } } }"""
QUEUE = """query($after: String) { reviewQueue(unit: "NMG152201", first: 100, after: $after) {
  edges { node { id subject item title } } hasNextPage endCursor } }"""
APPROVE = (
    "mutation($id: String!) { approveRecord(id: $id) { id status approvals approvalsNeeded } }"
)
REGISTER = """mutation($p: PartnerInput!) {
  registerPartner(partner: $p) { verifyingKey partner { code kind association } } }"""
FEED = """{ sanctionFeed(first: 100) { entries { op creditCode sanctionId } } }"""
UNKNOWN = "91110000600037341L"  # valid, and held nowhere in the test graph


def association_token(code: str = SURVEY) -> str:
    return mint("association", agency=code, clearance="PUBLIC")


def _error(body: dict[str, Any]) -> dict[str, Any]:
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


def _shared_record(code: str, n: int) -> str:
    """A published SHARED record of ``code`` (a land-contract breach), loaded by `hub import`."""
    record = f"R-ASSN-{n:04d}"
    row = {
        "kind": "CreditRecord", "id": record, "subject": code, "agency": UNIT,
        "item": "LAND_CONTRACT_BREACH", "category": "DISHONEST", "tier": "GENERAL",
        "title": "未按出让合同约定期限开工", "decidedOn": "2026-05-01",
        "document": f"乌自然资违约〔2026〕{n}号", "publishFrom": "2026-05-02",
        "publishUntil": "2027-05-01", "status": "PUBLISHED", "disclosure": "SHARED",
    }  # fmt: skip
    path = TEST_DATA / f"association-record-{n}.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False), "utf-8")
    import_file(path)
    return record


async def _rate(store: Store, codes: list[str]) -> None:
    async def work(tx: AsyncManagedTransaction) -> None:
        await rate_in(tx, codes, date.today())

    await store.write(work)


def _queued(reviewer: GraphQLClient, record: str) -> dict[str, Any]:
    """The record as the reviewers' queue shows it, looked for page by page."""
    after = None
    while True:
        page: dict[str, Any] = reviewer.data(QUEUE, {"after": after})["reviewQueue"]  # type: ignore[assignment]
        found = [e["node"] for e in page["edges"] if e["node"]["id"] == record]
        if found:
            return found[0]
        assert page["hasNextPage"], f"{record} is not in the review queue"
        after = page["endCursor"]


async def _count(driver: AsyncDriver, cypher: str, **params: Any) -> int:
    rows, _, _ = await driver.execute_query(cypher, **params)
    return int(rows[0]["n"])


async def test_an_association_sees_its_members_and_nothing_more_of_others(
    api: str, store: Store, driver: AsyncDriver
) -> None:
    (member, _), (outsider, _) = fresh_subjects(2)
    shared = {code: _shared_record(code, n) for n, code in enumerate((member, outsider), 1)}
    await _rate(store, [member, outsider])
    admin = GraphQLClient(api, mint("admin"))
    assoc = GraphQLClient(api, association_token())
    public = GraphQLClient(api, None)

    # Only an admin records membership; an association cannot enrol anyone, itself included.
    enrol = {"a": SURVEY, "c": outsider, "s": "2020-03-01"}
    assert _error(assoc.post(SET, enrol).json())["code"] == "FORBIDDEN"
    unknown_assoc = admin.post(SET, {**enrol, "a": "XH-NOPE"}).json()
    assert _error(unknown_assoc)["code"] == "BAD_USER_INPUT"
    held = admin.data(SET, {"a": SURVEY, "c": member, "s": "2020-03-01"})["setMembership"]
    assert held == {"association": SURVEY, "creditCode": member, "since": "2020-03-01",
                    "until": None}  # fmt: skip
    admin.data(SET, {"a": GEOLOGY, "c": outsider, "s": "2021-01-01"})  # another association's
    assert await _count(
        driver, "MATCH (:Subject {creditCode: $c})-[m:MEMBER_OF]->() RETURN count(m) AS n",
        c=outsider,
    ) == 1  # fmt: skip

    # Its member: rating, listings and records up to SHARED, as a SHARED partner reads them.
    seen: dict[str, Any] = assoc.data(MEMBER, {"c": member})["member"]  # type: ignore[assignment]
    assert seen["creditCode"] == member and seen["since"] == "2020-03-01"
    assert seen["rating"] is not None and seen["rating"]["grade"] == seen["grade"]
    assert {(r["id"], r["disclosure"]) for r in seen["records"]} >= {(shared[member], "SHARED")}
    bank = GraphQLClient(api, mint("partner")).data(SUBJECT, {"c": member})["subject"]
    assert seen["rating"]["explanation"] == bank["rating"]["explanation"]  # type: ignore[index]

    pages: list[dict[str, Any]] = []
    after = None
    while True:
        page = assoc.data(MEMBERS, {"after": after})["members"]
        pages += [e["node"] for e in page["edges"]]  # type: ignore[index]
        if not page["pageInfo"]["hasNextPage"]:  # type: ignore[index]
            break
        after = page["pageInfo"]["endCursor"]  # type: ignore[index]
    listed = {m["creditCode"] for m in pages}
    assert member in listed and outsider not in listed
    members_in_graph = await _count(
        driver,
        "MATCH (:Association {code: $a})<-[m:MEMBER_OF]-() WHERE m.until IS NULL "
        "RETURN count(m) AS n",
        a=SURVEY,
    )
    assert len(listed) == members_in_graph

    # A non-member answers exactly like an unknown code: null, no error, the same body.
    stranger = assoc.post(MEMBER, {"c": outsider}).json()
    nobody = assoc.post(MEMBER, {"c": UNKNOWN}).json()
    assert stranger == nobody == {"data": {"member": None}}
    # Through `subject` it reads the public view of anyone, its members included.
    for code in (outsider, member):
        as_assoc = assoc.data(SUBJECT, {"c": code})["subject"]
        assert as_assoc == public.data(SUBJECT, {"c": code})["subject"]
        assert shared[code] not in {r["id"] for r in as_assoc["records"]}  # type: ignore[index]

    # The membership ends: the former member reads like anyone else at once.
    ended = admin.data(END, {"a": SURVEY, "c": member})["endMembership"]
    assert ended == {"since": "2020-03-01", "until": date.today().isoformat()}
    assert assoc.post(MEMBER, {"c": member}).json() == nobody
    again = admin.post(END, {"a": SURVEY, "c": member}).json()
    assert _error(again)["code"] == "NOT_FOUND"


def _raw_token(**claims: object) -> str:
    """A dev-issuer token the hub's own minting would refuse to make."""
    secret = dev_jwt_secret(get_settings().keys_dir)
    return jwt.encode(partner_claims(**claims), secret, algorithm="HS256")


def test_hostile_association_tokens_are_refused(api: str) -> None:
    ((code, _),) = fresh_subjects(1)
    association = {"agency": SURVEY, "level": "ASSOCIATION", "roles": ["association"],
                   "clearance": "PUBLIC"}  # fmt: skip
    me = httpx.post(
        f"{api}/graphql", json={"query": "{ me { agency roles level } }"},
        headers={"Authorization": f"Bearer {_raw_token(**association)}"}, timeout=15,
    ).json()["data"]["me"]  # fmt: skip
    assert me == {"agency": SURVEY, "roles": ["association"], "level": "ASSOCIATION"}
    hostile = {
        "claims a credit code": {**association, "creditCode": code},
        "unregistered association": {**association, "agency": "XH-FAKE"},
        "a unit's code": {**association, "agency": UNIT},
        "with a reviewer's role": {**association, "roles": ["association", "reviewer"]},
        "at another level": {**association, "level": "PARTNER"},
        "a partner at its level": {**association, "roles": ["partner"]},
    }
    for why, claims in hostile.items():
        response = httpx.post(
            f"{api}/graphql", json={"query": MEMBER, "variables": {"c": code}},
            headers={"Authorization": f"Bearer {_raw_token(**claims)}"}, timeout=15,
        )  # fmt: skip
        assert response.status_code == 401, why
        assert _error(response.json())["code"] == "UNAUTHENTICATED", why
        assert "data" not in response.json() or not response.json()["data"], why
    # Other callers may not use an association's fields at all.
    for token in (mint("partner"), unit_token("reviewer", UNIT, "assn-rev"), None):
        refused = GraphQLClient(api, token).post(MEMBER, {"c": code}).json()
        assert _error(refused)["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
        assert refused.get("data") in (None, {"member": None})


async def test_a_self_discipline_action_is_reviewed_before_it_counts(
    api: str, driver: AsyncDriver
) -> None:
    (member, _), (outsider, _) = fresh_subjects(2)
    admin = GraphQLClient(api, mint("admin"))
    admin.data(SET, {"a": SURVEY, "c": member, "s": "2019-06-01"})
    assoc = GraphQLClient(api, association_token())
    public = GraphQLClient(api, None)
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "assn-reviewer-1"))
    second = GraphQLClient(api, unit_token("reviewer", UNIT, "assn-reviewer-2"))
    today = date.today().isoformat()
    warning = {"action": "WARNING", "decidedOn": today, "document": "内测学自律〔2026〕1号",
               "reasons": "测绘成果质量抽检不合格"}  # fmt: skip

    # Not a member, or nobody: the same refusal, and nothing is stored for either.
    refusals = [assoc.post(FILE, {"c": c, "i": warning}).json() for c in (outsider, UNKNOWN)]
    assert _error(refusals[0]) == _error(refusals[1]) == {"code": "NOT_FOUND",
                                                          "reason": "not-a-member"}  # fmt: skip
    assert refusals[0]["errors"][0]["message"] == refusals[1]["errors"][0]["message"]
    assert await _count(
        driver,
        "MATCH (r:CreditRecord {item: 'ASSOCIATION_DISCIPLINE'}) WHERE r.naturalKey CONTAINS $c "
        "RETURN count(r) AS n",
        c=outsider,
    ) == 0  # fmt: skip
    assert await _count(
        driver, "MATCH (d:SelfDiscipline {creditCode: $c}) RETURN count(d) AS n", c=outsider
    ) == 0  # fmt: skip
    short = assoc.post(FILE, {"c": member, "i": {**warning, "reasons": "差"}}).json()
    assert _error(short)["code"] == "BAD_USER_INPUT"

    filed: dict[str, Any] = assoc.data(FILE, {"c": member, "i": warning})["recordSelfDiscipline"]  # type: ignore[assignment]
    assert (filed["creditCode"], filed["action"], filed["status"]) == (member, "WARNING", "PENDING")
    waiting = _queued(reviewer, filed["record"])
    assert (waiting["subject"], waiting["item"]) == (member, "ASSOCIATION_DISCIPLINE")
    assert "内蒙古自治区测绘地理信息学会警告" in waiting["title"]
    records = public.data(SUBJECT, {"c": member})["subject"]["records"]  # type: ignore[index]
    assert filed["record"] not in {r["id"] for r in records}

    assert reviewer.data(APPROVE, {"id": filed["record"]})["approveRecord"]["status"] == "PUBLISHED"  # type: ignore[index]
    records = public.data(SUBJECT, {"c": member})["subject"]["records"]  # type: ignore[index]
    assert {
        "id": filed["record"],
        "item": "ASSOCIATION_DISCIPLINE",
        "disclosure": "PUBLIC",
    } in records
    mine = assoc.data(ACTIONS)["selfDisciplineActions"]["edges"]  # type: ignore[index]
    published = {"id": filed["id"], "creditCode": member, "action": "WARNING",
                 "record": filed["record"], "status": "PUBLISHED"}  # fmt: skip
    assert published in [e["node"] for e in mine]
    other = GraphQLClient(api, association_token(GEOLOGY)).data(ACTIONS)
    assert filed["id"] not in {e["node"]["id"] for e in other["selfDisciplineActions"]["edges"]}  # type: ignore[index]

    # An expulsion ends the membership when its record is published, not when it is filed.
    expulsion = {**warning, "action": "EXPULSION", "document": "内测学自律〔2026〕2号"}
    expelled: dict[str, Any] = assoc.data(FILE, {"c": member, "i": expulsion})[
        "recordSelfDiscipline"
    ]  # type: ignore[assignment]
    first_step = reviewer.data(APPROVE, {"id": expelled["record"]})["approveRecord"]
    assert first_step["status"] == "PENDING" and first_step["approvalsNeeded"] == 2  # type: ignore[index]
    assert assoc.data(MEMBER, {"c": member})["member"] is not None
    assert (
        second.data(APPROVE, {"id": expelled["record"]})["approveRecord"]["status"] == "PUBLISHED"
    )  # type: ignore[index]
    assert assoc.post(MEMBER, {"c": member}).json() == {"data": {"member": None}}
    ended = await driver.execute_query(
        "MATCH (:Subject {creditCode: $c})-[m:MEMBER_OF]->(:Association {code: $a}) "
        "RETURN m.until AS until, m.endReason AS why",
        c=member,
        a=SURVEY,
    )
    assert [(r["until"].iso_format(), r["why"]) for r in ended.records] == [(today, "EXPULSION")]


async def test_an_associations_partner_hears_only_of_its_members(
    api: str, store: Store, driver: AsyncDriver, workers: Workers, rules: tuple[Any, Catalogue]
) -> None:
    admin = GraphQLClient(api, mint("admin"))
    code = "ASSN-GEO-HUB"
    bad = {"code": "ASSN-BAD", "name": "协会", "kind": "ASSOCIATION", "events": ["sanction.listed"]}
    assert _error(admin.post(REGISTER, {"p": bad}).json())["reason"] == "association-kind"
    unknown = admin.post(REGISTER, {"p": {**bad, "association": "XH-NOPE"}}).json()
    assert _error(unknown)["reason"] == "unknown-association"
    bank_tied = admin.post(REGISTER, {"p": {**bad, "kind": "BANK", "association": GEOLOGY}}).json()
    assert _error(bank_tied)["reason"] == "association-kind"

    port = free_port()
    made = admin.data(
        REGISTER,
        {"p": {"code": code, "name": "内蒙古自治区地质勘查协会", "kind": "ASSOCIATION",
               "association": GEOLOGY, "events": ["sanction.listed"],
               "endpoint": f"http://127.0.0.1:{port}/hub-events"}},
    )["registerPartner"]  # fmt: skip
    assert made["partner"] == {"code": code, "kind": "ASSOCIATION", "association": GEOLOGY}  # type: ignore[index]
    association = PartnerServer(port, Inbox(made["verifyingKey"], Behaviour())).start()  # type: ignore[index]
    platform = await registered_partner(
        store, rules[1], "ASSN-PLATFORM", "REGIONAL_CREDIT_PLATFORM", ["sanction.listed"]
    )
    try:
        (member, m_record), (outsider, o_record) = fresh_subjects(2)
        admin.data(SET, {"a": GEOLOGY, "c": member, "s": "2018-01-01"})
        admin.data(SET, {"a": SURVEY, "c": outsider, "s": "2018-01-01"})  # another association's
        listed = await listed_on(store, rules[1], member, m_record, "ASSN")
        not_ours = await listed_on(store, rules[1], outsider, o_record, "ASSN")

        got = wait_for(association.inbox, lambda m: m["data"]["sanctionId"] == listed)
        assert got["type"] == "sanction.listed" and got["data"]["creditCode"] == member
        measures = {m["code"] for m in got["data"]["measures"]}
        assert "ASSOCIATION_DISCIPLINE_NOTED" in measures
        # The platform hears of both; by then the association's lane has had its chance.
        wait_for(platform.inbox, lambda m: m["data"]["sanctionId"] == not_ours)
        wait_for(platform.inbox, lambda m: m["data"]["sanctionId"] == listed)
        assert not_ours not in {m["data"]["sanctionId"] for m in association.inbox.applied}
        assert await _count(
            driver, "MATCH (d:Delivery {partner: $p, subject: $c}) RETURN count(d) AS n",
            p=code, c=outsider,
        ) == 0  # fmt: skip

        # Polling, it reads the same: its members' listings only.
        poller = GraphQLClient(api, mint("partner", agency=code))
        entries = poller.data(FEED)["sanctionFeed"]["entries"]  # type: ignore[index]
        assert entries, "the feed is empty"
        assert listed in {e["sanctionId"] for e in entries}
        geologists = await driver.execute_query(
            "MATCH (s:Subject)-[m:MEMBER_OF]->(:Association {code: $a}) WHERE m.until IS NULL "
            "RETURN collect(s.creditCode) AS codes",
            a=GEOLOGY,
        )
        assert outsider not in {e["creditCode"] for e in entries}
        assert {e["creditCode"] for e in entries} <= set(geologists.records[0]["codes"])
    finally:
        association.stop()
        platform.stop()


async def test_membership_loads_in_bulk_and_a_bad_row_loses_no_good_one(
    api: str, driver: AsyncDriver
) -> None:
    (first, _), (second, _) = fresh_subjects(2)
    lines = [
        "association,creditCode,since",
        f"{GEOLOGY},{first},2017-04-01",
        f"XH-NOPE,{second},2017-04-01",  # no such association
        f"{GEOLOGY},{second[:-1]}{'1' if second[-1] != '1' else '2'},2017-04-01",  # bad check
        f"{GEOLOGY},{UNKNOWN},2017-04-01",  # valid, and no subject has it
        f"{GEOLOGY},{second},2017-13-01",  # no such day
        f"{GEOLOGY},{second},2016-09-01",
    ]
    path = TEST_DATA / "association-members.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    done = hub_command("associations", "members", str(path), check=False)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["set"] == 2
    assert [(r["line"], r["reason"]) for r in report["refused"]] == [
        (3, "unknown-association"), (4, "invalid-credit-code"), (5, "unknown-subject"),
        (6, "invalid-date"),
    ]  # fmt: skip
    found = await driver.execute_query(
        "MATCH (s:Subject)-[m:MEMBER_OF]->(:Association {code: $a}) "
        "WHERE s.creditCode IN $codes AND m.until IS NULL "
        "RETURN s.creditCode AS code, toString(m.since) AS since ORDER BY code",
        a=GEOLOGY,
        codes=[first, second, UNKNOWN],
    )
    assert sorted((r["code"], r["since"]) for r in found.records) == sorted(
        [(first, "2017-04-01"), (second, "2016-09-01")]
    )
    geology = GraphQLClient(api, association_token(GEOLOGY))
    assert geology.data(MEMBER, {"c": second})["member"]["since"] == "2016-09-01"  # type: ignore[index]
