"""A company signs in on the portal through the real OpenID provider (npm ``oidc-provider`` on
loopback, tests/oidc.py) and reads its whole archive; ``myArchive`` gives the same over the API.

Hostile: a forged, replayed or missing state, a code issued to another client, an ID token from
another issuer, an invalid or missing credit code claim, a provider the hub does not offer, no
provider at all; subject tokens on the units' root fields and on other subjects. Each refusal is
checked to have started no session and released nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from graph.identifiers import uscc_check_char
from hub.cli import services
from hub.portal.session import COOKIE
from tests.audit import audit_trail
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    graphql,
    hub_command,
    import_file,
    mint,
    start_api,
    unit_token,
)
from tests.hub.test_portal_browser import axe_violations
from tests.oidc import (
    EXTRA_API_PORTS,
    ISSUER,
    OTHER_CLIENT_ID,
    PROVIDER,
    TITLE,
    provider_login,
    sign_in,
    signin_yaml,
)

OTHER = "91152201MA0P00B01"  # completed with its check character below
EVERY_CLASS = {  # the `code` fixture's records (tests/conftest.py), by title
    "R-API-PUBLIC": "非法采矿",
    "R-API-SHARED": "年度信息未按期填报",
    "R-API-RESTRICTED": "内部核查线索",
    "R-API-CONFIDENTIAL": "移送公安案件",
    "R-API-PENDING": "待审核",
}
ARCHIVE = """{ myArchive { creditCode name records { id status disclosure versions { id } }
  sanctions { id status } listingCases { id status steps { action reason by } }
  rating { grade score } } }"""


def subject_token(code: str) -> str:
    return mint("subject", agency=code, credit_code=code, clearance="PUBLIC")


def _row(kind: str, **fields: Any) -> str:
    return json.dumps({"kind": kind, **fields}, ensure_ascii=False)


@pytest.fixture(scope="module")
def other(api: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Another company: a confidential record, an expired and a repaired one, an ended listing,
    and a serious public record a unit proposes (and notifies) a listing case on."""
    full = OTHER + uscc_check_char(OTHER)
    record = {"subject": full, "agency": "NMG152201", "category": "DISHONEST"}
    rows = [
        _row("Subject", creditCode=full, name="兴安盟另一测试矿业有限公司", subjectKind="COMPANY",
             division="152201", status="ACTIVE", registeredOn="2015-01-01",
             source={"agency": "NMG152201", "system": "test"}),
        _row("CreditRecord", id="R-SIGNIN-SECRET", **record, item="COURT_JUDGMENT",
             tier="SERIOUS", title="另一家的保密案件", decidedOn="2024-02-01",
             status="PUBLISHED", disclosure="CONFIDENTIAL"),
        _row("CreditRecord", id="R-SIGNIN-LISTED", **record, item="ADMIN_PENALTY",
             tier="SERIOUS", title="擅自越界开采", decidedOn="2025-03-01",
             status="PUBLISHED", disclosure="PUBLIC"),
        _row("CreditRecord", id="R-SIGNIN-EXPIRED", **record, item="ADMIN_PENALTY",
             tier="GENERAL", title="逾期未复垦", decidedOn="2019-01-01",
             status="EXPIRED", disclosure="PUBLIC"),
        _row("CreditRecord", id="R-SIGNIN-REPAIRED", **record, item="ADMIN_PENALTY",
             tier="GENERAL", title="未按期缴纳出让金", decidedOn="2021-01-01",
             status="REPAIRED", disclosure="PUBLIC"),
        _row("Sanction", id="S-SIGNIN-ENDED", subject=full, authority="NMG152201",
             listing="SERIOUS_DISHONESTY", basedOn=["R-SIGNIN-REPAIRED"],
             startDate="2021-02-01", endDate="2024-02-01", status="ENDED",
             measures=["BID_RESTRICTED"]),
    ]  # fmt: skip
    file = tmp_path_factory.mktemp("signin") / "other.jsonl"
    file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_file(file)
    clerk = unit_token("submitter", "NMG152201", "clerk-1")
    case = graphql(
        api,
        clerk,
        """mutation($c: String!) { proposeListing(creditCode: $c, records: ["R-SIGNIN-LISTED"],
             fault: INTENT, reason: "故意越界开采，情节严重") { id } }""",
        c=full,
    )
    assert not case.get("errors"), case
    notified = graphql(
        api,
        unit_token("reviewer", "NMG152201", "reviewer-1"),
        """mutation($id: String!) { advanceListing(id: $id, step: NOTIFY, reason: "事先告知",
             document: "乌自然资告〔2026〕9号") { status } }""",
        id=case["data"]["proposeListing"]["id"],
    )
    assert not notified.get("errors"), notified
    return full


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(locale="zh-CN")
    yield opened
    opened.close()


def _signed_in(client: httpx.Client | Page, api: str) -> bool:
    """Whether /me shows an archive (a session) rather than sending the browser to /signin."""
    if isinstance(client, httpx.Client):
        return client.get(f"{api}/me", follow_redirects=False).status_code == 200
    response = client.goto(f"{api}/me")
    return response is not None and client.url == f"{api}/me" and response.status == 200


def test_a_company_signs_in_sees_its_whole_archive_and_signs_out(
    api: str, oidc: str, code: str, context: BrowserContext
) -> None:
    page = context.new_page()
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/signin/callback" in r.url else None)
    assert not _signed_in(page, api) and page.url == f"{api}/signin"
    sign_in(page, api, code)
    assert len(callbacks) == 1 and "state=" in callbacks[0]
    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE]
    held = json.loads(base64.b64decode(cookie["value"].split(".")[0]))["subject"]
    assert held["code"] == code and held["iss"] == ISSUER
    assert 890 <= held["exp"] - time.time() <= 900  # the provider's max_session, not 1800

    response = page.goto(f"{api}/me")
    assert response is not None and response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert "x-cache" not in response.headers  # never through the shared page cache
    text = page.inner_text("main")
    assert "兴安盟接口测试矿业有限公司" in text and code in text
    for record, title in EVERY_CLASS.items():
        assert record in text and title in text, record
    for shown in ("保密", "受限", "共享", "待审核", "严重失信主体名单", "C"):
        assert shown in text, shown
    assert "另一家的保密案件" not in text
    public = httpx.get(f"{api}/subjects/{code}", timeout=15).text
    assert "移送公安案件" not in public and "非法采矿" in public  # the public still sees less

    page.click("text=退出登录")
    page.wait_for_url(f"{api}/")
    assert not _signed_in(page, api)
    replayed = page.goto(callbacks[0])  # the provider's answer, once more
    assert replayed is not None and replayed.status == 400
    assert "登录请求无效或已过期" in page.inner_text("main")
    assert not _signed_in(page, api)


def test_the_archive_page_reads_the_session_code_only(
    api: str, oidc: str, code: str, other: str, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, api, other)
    text = page.inner_text("main")
    for own in ("另一家的保密案件", "擅自越界开采", "逾期未复垦", "未按期缴纳出让金", "已修复"):
        assert own in text, own
    assert "事先告知" in text and "乌自然资告〔2026〕9号" in text  # the case with its steps
    for record in EVERY_CLASS:  # the other company's, by id
        assert record not in text, record
    assert page.goto(f"{api}/me?creditCode={code}") is not None
    assert "R-API-CONFIDENTIAL" not in page.inner_text("main")


def test_the_sign_in_and_archive_pages_are_accessible(
    api: str, oidc: str, code: str, browser: Browser
) -> None:
    # bypass_csp only so that the test can inject axe-core; the pages themselves run no script
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{api}/signin")
    assert axe_violations(page) == [] and problems == []
    sign_in(page, api, code)  # the provider's own pages load fonts from outside: not ours
    problems.clear()
    page.reload()
    assert axe_violations(page) == [] and problems == []
    context.close()


def test_sign_out_needs_the_form_token(
    api: str, oidc: str, code: str, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, api, code)
    forged = page.request.post(f"{api}/signout", form={"csrf_token": "forged"})
    assert forged.status == 403 and "表单已失效" in forged.text()
    bare = page.request.post(f"{api}/signout", form={})
    assert bare.status == 403
    assert _signed_in(page, api)


def _started(api: str) -> tuple[httpx.Client, str]:
    """A browser-like client that asked the hub to sign in: its cookie jar, and the state the
    hub sent to the provider."""
    client = httpx.Client(timeout=15)
    started = client.get(f"{api}/signin", params={"provider": PROVIDER})
    assert started.status_code == 302, started.text
    target = urlsplit(started.headers["location"])
    assert f"{target.scheme}://{target.netloc}" == ISSUER
    query = parse_qs(target.query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["nonce"] and query["scope"] == ["openid uscc"]
    return client, query["state"][0]


def test_a_forged_or_missing_state_starts_no_session(api: str, oidc: str) -> None:
    client, state = _started(api)
    forged = client.get(f"{api}/signin/callback", params={"code": "x", "state": "forged"})
    assert forged.status_code == 400 and "登录请求无效或已过期" in forged.text
    assert not _signed_in(client, api)
    client.close()
    for params in ({"code": "x", "state": state}, {"code": "x"}, {}):  # no sign-in started
        fresh = httpx.get(f"{api}/signin/callback", params=params, timeout=15)
        assert fresh.status_code == 400 and "set-cookie" not in fresh.headers


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_a_code_issued_to_another_client_is_refused(
    api: str, oidc: str, code: str, context: BrowserContext
) -> None:
    """A code the provider gave another relying party, sent to the hub's callback with the
    hub's own valid state: the provider refuses to exchange it for the hub, no session."""
    client, state = _started(api)
    _, challenge = _pkce()
    caught: list[str] = []
    page = context.new_page()  # this browser started no sign-in: the hub will not use the code
    page.on("request", lambda r: caught.append(r.url) if "/signin/callback" in r.url else None)
    query = {
        "client_id": OTHER_CLIENT_ID,
        "response_type": "code",
        "scope": "openid uscc",
        "redirect_uri": f"{api}/signin/callback",
        "state": "theirs",
        "nonce": "theirs",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(f"{ISSUER}/auth?{urlencode(query)}")
    provider_login(page, code)
    page.wait_for_url(f"{api}/signin/callback*")
    assert len(caught) == 1
    stolen = parse_qs(urlsplit(caught[0]).query)["code"][0]
    sent = client.get(f"{api}/signin/callback", params={"code": stolen, "state": state})
    assert sent.status_code == 401 and "身份认证未通过" in sent.text
    assert not _signed_in(client, api)
    client.close()


def _attempt(context: BrowserContext, api: str, login: str) -> tuple[int, str, Page]:
    """Sign in at the provider as ``login``; the status and text of the hub's callback page."""
    page = context.new_page()
    page.goto(f"{api}/signin")
    page.click(f"text=使用{TITLE}登录")
    with page.expect_response(lambda r: "/signin/callback" in r.url) as answer:
        provider_login(page, login)
    page.wait_for_load_state()
    return answer.value.status, page.inner_text("main"), page


@pytest.mark.parametrize(
    "login",
    [
        "91152201MA0P00A01X",  # the check character is wrong
        "915222",  # too short
        "no-uscc-company",  # no uscc claim at all
    ],
)
def test_an_invalid_or_missing_credit_code_starts_no_session(
    api: str, oidc: str, login: str, context: BrowserContext
) -> None:
    status, text, page = _attempt(context, api, login)
    assert status == 401 and "没有有效的统一社会信用代码" in text
    assert not _signed_in(page, api)


@pytest.fixture(scope="module")
def strange_hubs(api: str, oidc: str) -> Iterator[tuple[str, str]]:
    """Two more API processes: one expecting ID tokens from another issuer (the endpoints named
    in its file), one whose file offers no provider at all."""
    files = {
        "wrong-issuer": signin_yaml(issuer=f"{ISSUER}/elsewhere", endpoints=True),
        "no-signin": "",
    }
    procs = []
    for (name, text), port in zip(files.items(), EXTRA_API_PORTS, strict=True):
        path = TEST_DATA / f"signin-{name}.yaml"
        path.write_text(text, encoding="utf-8")
        procs.append(start_api(port, f"api-{name}", HUB_SIGNIN_FILE=str(path)))
    yield tuple(f"http://127.0.0.1:{port}" for port in EXTRA_API_PORTS)  # type: ignore[misc]
    for proc in procs:
        services.stop_process(proc.pid, timeout=20)
        proc.wait(timeout=5)


def test_an_id_token_from_another_issuer_is_refused(
    strange_hubs: tuple[str, str], code: str, context: BrowserContext
) -> None:
    status, text, page = _attempt(context, strange_hubs[0], code)
    assert status == 401 and "身份认证未通过" in text
    assert not _signed_in(page, strange_hubs[0])


def test_no_provider_configured_offers_no_sign_in(
    api: str, strange_hubs: tuple[str, str], oidc: str
) -> None:
    bare = strange_hubs[1]
    page = httpx.get(f"{bare}/signin", timeout=15)
    assert page.status_code == 200 and "本平台暂未开通企业登录" in page.text
    assert "使用" not in page.text
    for where in (bare, api):  # a provider the hub does not offer
        unknown = httpx.get(f"{where}/signin", params={"provider": "elsewhere"}, timeout=15)
        assert unknown.status_code == 404 and "set-cookie" not in unknown.headers
    answer = httpx.get(f"{bare}/signin/callback", params={"code": "x", "state": "y"}, timeout=15)
    assert answer.status_code == 400
    assert httpx.get(f"{bare}/me", timeout=15).headers["location"] == "/signin"


def test_my_archive_over_the_api(api: str, code: str, other: str) -> None:
    body = graphql(api, subject_token(code), ARCHIVE)
    assert not body.get("errors"), body
    archive = body["data"]["myArchive"]
    ids = {r["id"] for r in archive["records"]}
    assert set(EVERY_CLASS) <= ids
    assert {r["disclosure"] for r in archive["records"]} >= {
        "PUBLIC", "SHARED", "RESTRICTED", "CONFIDENTIAL"
    }  # fmt: skip
    assert not any(i.startswith("R-SIGNIN") for i in ids)  # another company's, never
    assert [s["id"] for s in archive["sanctions"]] == ["S-API-1"]
    # The rating the public reads of the company now (other tests re-rate the shared subject).
    rated = "query($c: String!) { subject(creditCode: $c) { rating { grade score } } }"
    public = GraphQLClient(api, None).data(rated, {"c": code})["subject"]
    assert archive["rating"] == public["rating"] and archive["rating"] is not None  # type: ignore[index]

    theirs = graphql(api, subject_token(other), ARCHIVE)["data"]["myArchive"]
    statuses = {r["id"]: r["status"] for r in theirs["records"]}
    assert statuses == {
        "R-SIGNIN-SECRET": "PUBLISHED",
        "R-SIGNIN-LISTED": "PUBLISHED",
        "R-SIGNIN-EXPIRED": "EXPIRED",
        "R-SIGNIN-REPAIRED": "REPAIRED",
    }
    assert [(s["id"], s["status"]) for s in theirs["sanctions"]] == [("S-SIGNIN-ENDED", "ENDED")]
    [case] = theirs["listingCases"]
    assert case["status"] == "NOTIFIED"
    assert [(s["action"], s["by"]) for s in case["steps"]] == [
        ("PROPOSE", "NMG152201"),
        ("NOTIFY", "NMG152201"),
    ]  # by the unit: its officials' accounts are not the company's to read

    trail = audit_trail(api, code, "field decision released")
    mine = [e for e in trail if e["field"] == "myArchive"]
    assert mine and "R-API-CONFIDENTIAL" in mine[-1]["released"]


def test_a_subject_reads_others_only_as_the_public_does(api: str, code: str, other: str) -> None:
    body = graphql(
        api,
        subject_token(other),
        "query($c: String!) { subject(creditCode: $c) { records { id } sanctions { id } } }",
        c=code,
    )
    assert not body.get("errors"), body
    assert {r["id"] for r in body["data"]["subject"]["records"]} == {"R-API-PUBLIC"}


@pytest.mark.parametrize(
    "query",
    [
        "{ reviewQueue { edges { node { id } } } }",
        'mutation { approveRecord(id: "R-API-PENDING") { id status } }',
        '{ listingCase(id: "LC-x") { id } }',
    ],
)
def test_a_subject_token_gets_no_unit_field(api: str, code: str, query: str) -> None:
    body = graphql(api, subject_token(code), query)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not any((body.get("data") or {}).values())
    pending = graphql(
        api,
        unit_token("reviewer", "NMG152201", "reviewer-9"),
        '{ creditRecord(id: "R-API-PENDING") { status approvals: version } }',
    )
    assert pending["data"]["creditRecord"]["status"] == "PENDING"  # nothing was approved


@pytest.mark.parametrize("who", ["partner", "reviewer", None])
def test_only_subjects_have_an_archive(api: str, code: str, who: str | None) -> None:
    headers = {"Authorization": f"Bearer {mint(who)}"} if who else {}
    response = httpx.post(f"{api}/graphql", json={"query": ARCHIVE}, headers=headers, timeout=15)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not any((body.get("data") or {}).values()) and code not in response.text


def test_hub_token_for_a_subject(api: str, code: str) -> None:
    printed = hub_command("token", "--role", "subject", "--credit-code", code)
    token = printed.stdout.strip()
    assert "\n" not in token
    body = graphql(api, token, "{ me { creditCode roles } myArchive { creditCode } }")
    assert body["data"] == {
        "me": {"creditCode": code, "roles": ["subject"]},
        "myArchive": {"creditCode": code},
    }
    bad = hub_command("token", "--role", "subject", "--credit-code", code[:-1] + "X", check=False)
    assert bad.returncode != 0 and bad.stdout == "" and "credit-code" in bad.stderr
