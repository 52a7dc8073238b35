"""Complaints and reports end to end, over the real API and portal: anyone files without
signing in, the filing reaches the responsible unit (and never the unit complained about), the
unit accepts and answers, the filer follows it with the query code. Every hostile request (a
wrong code, another unit, a partner, no token, a forged form, bad files, a flood) is refused and
leaves the stored complaints as they were."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import socket
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from connectors.storage.base import chunks
from graph.db import Store
from graph.identifiers import uscc_check_char
from graph.rights.complaints import Filing, file_complaint
from hub.evidence import evidence_key, evidence_storage
from policies.access import read_scope
from policies.principal import public_principal
from policies.rights import default_rights
from tests.conftest import TEST_DATA, import_file, mint, unit_token
from tests.subjects import fresh_subjects

FILE = """mutation($kind: ComplaintKind!, $text: String!, $code: String, $unit: String,
  $contact: String) {
  fileComplaint(kind: $kind, text: $text, creditCode: $code, aboutUnit: $unit, contact: $contact)
  { tracking queryCode unit unitName acceptDue acceptSource } }"""
STATUS = """query($t: String!, $q: String!) { complaintStatus(tracking: $t, queryCode: $q) {
  tracking kind status unitName filedOn acceptDue answerDue dueOn reason reply escalated } }"""
QUEUE = """query($after: String) { complaints(first: 100, after: $after) {
  edges { node { id tracking kind status unit creditCode aboutUnit text contact
    attachments { name type size } steps { kind day unit by } } }
  pageInfo { hasNextPage endCursor } } }"""
ACCEPT = """mutation($id: String!, $accept: Boolean!, $reason: String) {
  acceptComplaint(id: $id, accept: $accept, reason: $reason) {
    id status answerDue dueOn reason open } }"""
ANSWER = """mutation($id: String!, $reply: String!) {
  answerComplaint(id: $id, reply: $reply) { id status reply open } }"""
COUNT = "MATCH (c:Complaint) RETURN count(c) AS n"
TEXT = "该公司在矿区范围外越界开采，已持续三个月，请依法查处。"
PDF = b"%PDF-1.4\n%complaint evidence\n" + b"0" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
TRACKING = re.compile(r"^TS-(\d{8})-[2-9A-HJKMNP-Z]{6}$")
QUERY_CODE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")
BANNER, LEAGUE, OTHER_BANNER = "NMG152201", "NMG152200", "NMG150102"


pytestmark = pytest.mark.usefixtures("fresh_complaint_counts")


def _gql(api: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{api}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=15,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _code_of(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def _report(api: str, code: str, token: str | None = None, **extra: Any) -> dict[str, Any]:
    body = _gql(api, FILE, token, kind="REPORT", text=TEXT, code=code, **extra)
    assert not body.get("errors"), body
    receipt: dict[str, Any] = body["data"]["fileComplaint"]
    return receipt


def _queue(api: str, token: str) -> dict[str, dict[str, Any]]:
    """Every complaint the caller's queue holds, by tracking number (all pages)."""
    found: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        body = _gql(api, QUEUE, token, after=after)
        assert not body.get("errors"), body
        page = body["data"]["complaints"]
        found |= {e["node"]["tracking"]: e["node"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def _reviewer(unit: str) -> str:
    return unit_token("reviewer", unit, f"reviewer-{unit}")


async def _count(store: Store) -> int:
    rows = await store.read(COUNT)
    n: int = rows[0]["n"]
    return n


async def _properties(store: Store, tracking: str) -> dict[str, Any]:
    rows = await store.read(
        "MATCH (c:Complaint {tracking: $t}) RETURN properties(c) AS p", t=tracking
    )
    assert len(rows) == 1, tracking
    found: dict[str, Any] = rows[0]["p"]
    return found


def _restricted_subject() -> str:
    """A subject only the department sees: a report about it must answer like an unknown one."""
    first17 = "91152201MA0CP0001"
    code = first17 + uscc_check_char(first17)
    row = {
        "kind": "Subject",
        "creditCode": code,
        "name": "投诉测试非公开矿业有限公司",
        "subjectKind": "COMPANY",
        "division": "152201",
        "status": "ACTIVE",
        "registeredOn": "2015-01-01",
        "disclosure": "RESTRICTED",
    }
    path = TEST_DATA / "complaint-restricted-subject.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False), "utf-8")
    import_file(path)
    return code


async def test_a_report_reaches_the_subjects_unit_which_accepts_and_answers_it(
    api: str, store: Store
) -> None:
    [(code, _record)] = fresh_subjects(1)
    receipt = _report(api, code, contact="13800000000")
    today = date.today()
    match = TRACKING.match(receipt["tracking"])
    assert match and match.group(1) == today.strftime("%Y%m%d"), receipt
    assert QUERY_CODE.match(receipt["queryCode"]), receipt
    assert (receipt["unit"], receipt["unitName"]) == (BANNER, "乌兰浩特市自然资源局")
    assert receipt["acceptDue"] == (today + timedelta(days=15)).isoformat()
    assert "信访工作条例" in receipt["acceptSource"]
    tracking, secret = receipt["tracking"], receipt["queryCode"]

    # The query code is stored only as a hash.
    stored = await _properties(store, tracking)
    assert stored["queryHash"] and secret not in json.dumps(stored, default=str)
    assert secret.replace("-", "") not in json.dumps(stored, default=str)

    status = _gql(api, STATUS, t=tracking, q=secret)["data"]["complaintStatus"]
    assert (status["status"], status["kind"], status["unitName"]) == (
        "RECEIVED",
        "REPORT",
        "乌兰浩特市自然资源局",
    )

    # The banner and the league above it see it, with the filer's contact; another banner not.
    mine = _queue(api, _reviewer(BANNER))[tracking]
    assert (mine["creditCode"], mine["contact"], mine["status"]) == (
        code,
        "13800000000",
        "RECEIVED",
    )
    assert [s["kind"] for s in mine["steps"]] == ["FILED"]
    assert tracking in _queue(api, _reviewer(LEAGUE))
    assert tracking not in _queue(api, _reviewer(OTHER_BANNER))

    # Another unit, a partner, the public: refused, and nothing changes.
    outsider = _gql(api, ACCEPT, _reviewer(OTHER_BANNER), id=mine["id"], accept=True)
    unknown = _gql(api, ACCEPT, _reviewer(OTHER_BANNER), id="C-00000000000000000000", accept=True)
    assert _code_of(outsider) == _code_of(unknown) == "NOT_FOUND"
    assert outsider["errors"][0]["message"].replace(mine["id"], "?") == unknown["errors"][0][
        "message"
    ].replace("C-00000000000000000000", "?")
    partner = mint("partner")
    for token in (partner, None):
        assert _code_of(_gql(api, QUEUE, token)) == "FORBIDDEN"
        assert _code_of(_gql(api, ACCEPT, token, id=mine["id"], accept=True)) == "FORBIDDEN"
        assert _code_of(_gql(api, ANSWER, token, id=mine["id"], reply=TEXT)) == "FORBIDDEN"
    assert _code_of(_gql(api, ANSWER, _reviewer(BANNER), id=mine["id"], reply=TEXT)) == "CONFLICT"
    assert (await _properties(store, tracking))["status"] == "RECEIVED"

    accepted = _gql(api, ACCEPT, _reviewer(BANNER), id=mine["id"], accept=True)
    assert not accepted.get("errors"), accepted
    due = (today + timedelta(days=60)).isoformat()
    assert accepted["data"]["acceptComplaint"] | {"id": None} == {
        "id": None,
        "status": "ACCEPTED",
        "answerDue": due,
        "dueOn": due,
        "reason": None,
        "open": True,
    }
    again = _gql(api, ACCEPT, _reviewer(BANNER), id=mine["id"], accept=False, reason=TEXT)
    assert _code_of(again) == "CONFLICT"
    reply = "经核查，该公司越界开采属实，已立案查处并责令停止开采。"
    answered = _gql(api, ANSWER, _reviewer(LEAGUE), id=mine["id"], reply=reply)
    assert answered["data"]["answerComplaint"]["status"] == "ANSWERED", answered
    assert answered["data"]["answerComplaint"]["open"] is False

    followed = _gql(api, STATUS, t=tracking.lower(), q=secret.lower())["data"]["complaintStatus"]
    assert (followed["status"], followed["reply"], followed["answerDue"]) == (
        "ANSWERED",
        reply,
        due,
    )
    # A wrong code answers exactly like an unknown tracking number.
    wrong = _gql(api, STATUS, t=tracking, q="2222-2222-2222")
    unknown_number = _gql(api, STATUS, t="TS-20260101-222222", q=secret)
    assert wrong == unknown_number == {"data": {"complaintStatus": None}}
    steps = _queue(api, _reviewer(BANNER))[tracking]["steps"]
    assert [(s["kind"], s["unit"]) for s in steps] == [
        ("FILED", BANNER),
        ("ACCEPTED", BANNER),
        ("ANSWERED", LEAGUE),
    ]


async def test_a_complaint_about_a_unit_goes_to_its_superior_and_never_to_that_unit(
    api: str,
) -> None:
    about = {BANNER: LEAGUE, LEAGUE: "NMG150000", "NMG150000": "NMG150000"}
    for unit, handler in about.items():
        body = _gql(
            api, FILE, kind="COMPLAINT", text=f"{unit}办理用地审批超期且不说明理由。", unit=unit
        )
        assert not body.get("errors"), body
        receipt = body["data"]["fileComplaint"]
        assert receipt["unit"] == handler, (unit, receipt)
        assert receipt["tracking"] in _queue(api, _reviewer(handler))
        if unit != handler:
            assert receipt["tracking"] not in _queue(api, _reviewer(unit))
            node = _queue(api, _reviewer(handler))[receipt["tracking"]]
            refused = _gql(api, ACCEPT, _reviewer(unit), id=node["id"], accept=True)
            assert _code_of(refused) == "NOT_FOUND"
    # The region refuses one with its reasons, which the filer reads.
    body = _gql(
        api, FILE, kind="COMPLAINT", text="自治区自然资源厅对复议申请逾期未答复。", unit=LEAGUE
    )
    receipt = body["data"]["fileComplaint"]
    region = _reviewer("NMG150000")
    node = _queue(api, region)[receipt["tracking"]]
    reason = "该事项已进入行政复议程序，依法不再按信访程序受理。"
    refused = _gql(api, ACCEPT, region, id=node["id"], accept=False, reason=reason)
    assert refused["data"]["acceptComplaint"]["status"] == "REFUSED", refused
    status = _gql(api, STATUS, t=receipt["tracking"], q=receipt["queryCode"])
    assert status["data"]["complaintStatus"]["reason"] == reason


async def test_the_queue_filters_overdue_ones_and_the_admin_reads_but_does_not_decide(
    api: str, store: Store
) -> None:
    """An overdue one (filed 20 days ago, so past its 15 days) is in `overdue: true`; a fresh
    one is not; an admin of the unit reads the queue, and may not accept."""
    [(code, _record)] = fresh_subjects(1)
    fresh = _report(api, code)["tracking"]
    old = await file_complaint(
        store,
        default_rights(),
        Filing("REPORT", TEXT, credit_code=code),
        [],
        scope=read_scope(public_principal("test")).params(),
        today=date.today() - timedelta(days=20),
    )
    query = """query($overdue: Boolean) { complaints(overdue: $overdue, first: 100) {
      edges { node { tracking overdue dueOn } } } }"""
    token = _reviewer(BANNER)
    overdue = _gql(api, query, token, overdue=True)["data"]["complaints"]["edges"]
    on_time = _gql(api, query, token, overdue=False)["data"]["complaints"]["edges"]
    assert overdue and all(e["node"]["overdue"] for e in overdue)
    assert old.tracking in {e["node"]["tracking"] for e in overdue}
    assert fresh in {e["node"]["tracking"] for e in on_time}
    assert fresh not in {e["node"]["tracking"] for e in overdue}

    admin = unit_token("admin", BANNER, "admin-1")
    assert fresh in _queue(api, admin)
    assert _code_of(_gql(api, ACCEPT, admin, id=old.id, accept=True)) == "FORBIDDEN"
    foreign = _gql(api, QUEUE, token, after="czE6OTE")  # a subjects cursor, not this list's
    assert _code_of(foreign) == "BAD_USER_INPUT"


async def test_bad_filings_are_refused_with_a_code_and_store_nothing(
    api: str, store: Store
) -> None:
    hidden = _restricted_subject()
    first17 = "91152201MA0CP0999"
    unknown = first17 + uscc_check_char(first17)
    before = await _count(store)
    cases = [
        ({"kind": "REPORT", "text": "太短", "code": unknown}, "BAD_USER_INPUT"),
        ({"kind": "REPORT", "text": TEXT, "code": "91152201MA0CP00010"}, "INVALID_CREDIT_CODE"),
        ({"kind": "REPORT", "text": TEXT}, "BAD_USER_INPUT"),
        ({"kind": "REPORT", "text": TEXT, "code": unknown, "unit": BANNER}, "BAD_USER_INPUT"),
        ({"kind": "COMPLAINT", "text": TEXT, "unit": "NMG999999"}, "BAD_USER_INPUT"),
        ({"kind": "COMPLAINT", "text": TEXT}, "BAD_USER_INPUT"),
        ({"kind": "REPORT", "text": "长" * 5001, "code": unknown}, "BAD_USER_INPUT"),
    ]
    assert cases
    for variables, code in cases:
        assert _code_of(_gql(api, FILE, **variables)) == code, variables
    # A subject the public may not see answers exactly like a valid code nobody holds.
    not_public = _gql(api, FILE, kind="REPORT", text=TEXT, code=hidden)
    nobody = _gql(api, FILE, kind="REPORT", text=TEXT, code=unknown)
    assert not_public["errors"][0]["extensions"] == nobody["errors"][0]["extensions"]
    assert not_public["errors"][0]["message"] == nobody["errors"][0]["message"]
    assert _code_of(nobody) == "INVALID_CREDIT_CODE"
    # ... also for a unit's token: the intake knows only what the public sees.
    assert _gql(api, FILE, _reviewer(BANNER), kind="REPORT", text=TEXT, code=hidden)["errors"]
    assert await _count(store) == before


async def test_wrong_guesses_are_limited_per_address(api: str) -> None:
    [(code, _record)] = fresh_subjects(1)
    receipt = _report(api, code)
    for n in range(10):
        guess = _gql(api, STATUS, t=receipt["tracking"], q=f"2222-2222-22{n:02d}")
        assert guess == {"data": {"complaintStatus": None}}
    # Past the limit even the right code is not looked up until the window ends.
    limited = _gql(api, STATUS, t=receipt["tracking"], q=receipt["queryCode"])
    assert _code_of(limited) == "LIMIT_EXCEEDED"
    assert limited["errors"][0]["extensions"]["retryAfter"] > 0
    assert limited["data"] == {"complaintStatus": None}
    async with httpx.AsyncClient(base_url=api, timeout=15) as portal:
        token = _form_token(await portal.get("/complaints/track"))
        page = await portal.post(
            "/complaints/track",
            data={"csrf_token": token, "tracking": receipt["tracking"], "query_code": "x"},
        )
        assert page.status_code == 429 and "提交过于频繁" in page.text


# --- the portal's forms ---------------------------------------------------------------------


def _form_token(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _post(
    portal: httpx.AsyncClient, token: str | None, files: list[tuple[str, bytes]], **fields: str
) -> httpx.Response:
    data = {"kind": "REPORT", "text": TEXT, **fields}
    if token is not None:
        data["csrf_token"] = token
    parts = [("files", (name, content, "application/pdf")) for name, content in files]
    return await portal.post("/complaints/new", data=data, files=parts or None)


def _declared_too_long(api: str) -> bytes:
    """A form declaring 400 MB: answered from its headers, before a byte of its body is read."""
    url = httpx.URL(api)
    head = (
        "POST /complaints/new HTTP/1.1\r\nHost: hub\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {400 * 2**20}\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port or 80), timeout=15) as sock:
        sock.sendall(head.encode() + b"--b\r\n")
        return sock.recv(4096)


def _receipt(page: httpx.Response) -> tuple[str, str]:
    assert page.status_code == 201, page.text
    assert page.headers["cache-control"] == "no-store"
    tracking = re.search(r'id="tracking">([^<]+)<', page.text)
    code = re.search(r'id="query-code">([^<]+)<', page.text)
    assert tracking and code, page.text
    return tracking.group(1), code.group(1)


async def test_the_portal_files_a_report_with_evidence_and_its_filer_follows_it(
    api: str, store: Store
) -> None:
    [(code, _record)] = fresh_subjects(1)
    async with httpx.AsyncClient(base_url=api, timeout=30) as portal:
        form = await portal.get("/complaints/new")
        assert (
            "投诉举报" in form.text
            and "default-src 'none'" in form.headers["content-security-policy"]
        )
        assert "乌兰浩特市自然资源局" in form.text  # the units to choose from
        page = await _post(
            portal,
            _form_token(form),
            [("处罚决定书.pdf", PDF), ("现场照片.png", PNG)],
            credit_code=code,
            contact="王先生 13900000000",
        )
        tracking, secret = _receipt(page)
        assert TRACKING.match(tracking) and QUERY_CODE.match(secret)
        for content in (PDF, PNG):  # the bytes are kept, by their sha256
            stored = evidence_storage().open(evidence_key(hashlib.sha256(content).hexdigest()))
            assert b"".join(chunks(stored)) == content
        assert "乌兰浩特市自然资源局" in page.text

        rows = await store.read(
            "MATCH (:Complaint {tracking: $t})-[a:ATTACHES]->(e:Evidence) "
            "RETURN a.name AS name, e.type AS type, e.size AS size ORDER BY name",
            t=tracking,
        )
        assert [(r["name"], r["type"], r["size"]) for r in rows] == [
            ("处罚决定书.pdf", "application/pdf", len(PDF)),
            ("现场照片.png", "image/png", len(PNG)),
        ]
        node = _queue(api, _reviewer(BANNER))[tracking]
        assert node["contact"] == "王先生 13900000000" and len(node["attachments"]) == 2

        token = _form_token(await portal.get("/complaints/track"))
        found = await portal.post(
            "/complaints/track",
            data={"csrf_token": token, "tracking": tracking, "query_code": secret},
        )
        assert found.status_code == 200 and "已登记，待受理" in found.text
        assert found.headers["cache-control"] == "no-store"
        assert "13900000000" not in found.text  # the contact is for the unit only
        wrong = await portal.post(
            "/complaints/track",
            data={"csrf_token": token, "tracking": tracking, "query_code": "2222-2222-2222"},
        )
        unknown = await portal.post(
            "/complaints/track",
            data={"csrf_token": token, "tracking": "TS-20260101-222222", "query_code": secret},
        )
        assert wrong.status_code == unknown.status_code == 200
        assert wrong.text == unknown.text and "受理编号或查询码不正确" in wrong.text


async def test_a_refused_report_leaves_no_file_behind(api: str, store: Store) -> None:
    """Unknown subject, text too short: refused before a byte of the evidence is written."""
    first17 = "91152201MA0CP0998"
    unknown = first17 + uscc_check_char(first17)
    [(code, _record)] = fresh_subjects(1)
    evidence = PDF + secrets.token_bytes(32)  # a file no other test files
    where = evidence_key(hashlib.sha256(evidence).hexdigest())
    before = await _count(store)
    async with httpx.AsyncClient(base_url=api, timeout=15) as portal:
        token = _form_token(await portal.get("/complaints/new"))
        nobody = await _post(portal, token, [("a.pdf", evidence)], credit_code=unknown)
        assert nobody.status_code == 400 and "未公示该主体" in nobody.text
        short = await _post(portal, token, [("a.pdf", evidence)], credit_code=code, text="太短")
        assert short.status_code == 400 and "不少于10个字" in short.text
    assert not evidence_storage().exists(where) and await _count(store) == before


async def test_a_form_without_its_session_token_is_refused_and_stores_nothing(
    api: str, store: Store
) -> None:
    [(code, _record)] = fresh_subjects(1)
    before = await _count(store)
    async with (
        httpx.AsyncClient(base_url=api, timeout=15) as victim,
        httpx.AsyncClient(base_url=api, timeout=15) as forger,
    ):
        victims_token = _form_token(await victim.get("/complaints/new"))
        await forger.get("/complaints/new")  # a session of its own, with another token
        for token in (None, "forged", victims_token):
            page = await _post(forger, token, [], credit_code=code)
            assert page.status_code == 403 and "页面已过期" in page.text, token
        track = await forger.post(
            "/complaints/track", data={"tracking": "TS-20260101-222222", "query_code": "x"}
        )
        assert track.status_code == 403
    assert await _count(store) == before


async def test_abusive_filings_are_refused_and_every_accepted_one_is_kept(
    api: str, store: Store
) -> None:
    [(code, _record)] = fresh_subjects(1)
    before = await _count(store)
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500
    async with httpx.AsyncClient(base_url=api, timeout=60) as portal:
        token = _form_token(await portal.get("/complaints/new"))
        refused = {
            "oversized": await _post(
                portal, token, [("big.pdf", PDF + b"0" * 5 * 2**20)], credit_code=code
            ),
            "an .exe named .pdf": await _post(
                portal, token, [("invoice.pdf", exe)], credit_code=code
            ),
            "too many": await _post(
                portal, token, [(f"p{n}.pdf", PDF) for n in range(6)], credit_code=code
            ),
        }
        assert refused
        for why, page in refused.items():
            assert page.status_code == 400 and "附件不符合要求" in page.text, why
        assert _declared_too_long(api).startswith(b"HTTP/1.1 413")

        # A flood from one address: five go through, the sixth is told to wait.
        kept = [
            _receipt(await _post(portal, token, [("a.pdf", PDF)], credit_code=code))[0]
            for _ in range(5)
        ]
        flood = await _post(portal, token, [("a.pdf", PDF)], credit_code=code)
        assert flood.status_code == 429 and "提交过于频繁" in flood.text
        assert 0 < int(flood.headers["retry-after"]) <= 3601
    # The same address through GraphQL shares the count.
    over = _gql(api, FILE, kind="REPORT", text=TEXT, code=code)
    assert _code_of(over) == "LIMIT_EXCEEDED" and over["errors"][0]["extensions"]["retryAfter"] > 0
    # Every accepted complaint is still there, and nothing else was stored.
    assert await _count(store) == before + len(kept) == before + 5
    for tracking in kept:
        assert (await _properties(store, tracking))["status"] == "RECEIVED"
