"""Filing an objection with evidence files: the portal's form for a signed-in subject, and
``POST /objections`` for API users. Every hostile post (a forged form token, a file that is not
what it says, an oversized one, another subject's record, a partner, no token) is refused and
leaves nothing behind; a good one files, attaches its files and shows on the subject's pages.

The session cookie is the one hub/portal/session.py ``sign_in`` writes after the OpenID Connect
sign-in, signed here with the hub's session key; the sign-in itself in a browser is tested with
the OIDC provider (the merged suite)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx
from neo4j import AsyncDriver

from tests.conftest import mint
from tests.hub.test_objections import REASONS, subject_client
from tests.portal_session import signed_in_cookie
from tests.subjects import fresh_subjects

PDF = b"%PDF-1.4\n% proof of the review decision\n"
MINE = "{ myObjections { edges { node { id status recordId evidence { id name type size } } } } }"


def signed_in_as(code: str) -> tuple[dict[str, str], str]:
    """The portal cookie of a subject signed in for ``code``, and its form token."""
    pair, token = signed_in_cookie(code, f"sub-{code}")
    name, _, value = pair.partition("=")
    return {name: value}, token


async def _count(driver: AsyncDriver, record: str) -> int:
    records, _, _ = await driver.execute_query(
        "MATCH (o:Objection)-[:AGAINST]->(:CreditRecord {id: $id}) RETURN count(o) AS n", id=record
    )
    return int(records[0]["n"])


def _post(
    url: str, data: dict[str, str], files: list[tuple[str, Any]], **more: Any
) -> httpx.Response:
    return httpx.post(url, data=data, files=files, timeout=30, **more)


def _get(url: str, cookies: dict[str, str]) -> httpx.Response:
    return httpx.get(url, cookies=cookies, timeout=15)


async def test_a_signed_in_subject_files_through_the_portal_form_and_forgeries_fail(
    api: str, driver: AsyncDriver
) -> None:
    (code, record), (_, other_record) = fresh_subjects(2)
    cookies, token = signed_in_as(code)
    form = _get(f"{api}/me/objections/new?record={record}", cookies)
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    assert f'value="{token}"' in form.text and f'value="{record}"' in form.text

    url = f"{api}/me/objections/new"
    good = {"record": record, "reasons": REASONS, "csrf_token": token}
    proof = [("evidence", ("复议决定书.pdf", PDF, "application/pdf"))]
    forged = _post(url, {**good, "csrf_token": "forged"}, proof, cookies=cookies)
    assert forged.status_code == 403 and "页面已过期" in forged.text
    no_token = _post(url, {k: v for k, v in good.items() if k != "csrf_token"}, proof,
                     cookies=cookies)  # fmt: skip
    assert no_token.status_code == 403
    _, someone_else = signed_in_as(code)  # another session's token
    assert (
        _post(url, {**good, "csrf_token": someone_else}, proof, cookies=cookies).status_code == 403
    )
    fake = [("evidence", ("proof.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))]
    refused = _post(url, good, fake, cookies=cookies)
    assert refused.status_code == 400 and "附件不符合要求" in refused.text
    theirs = _post(url, {**good, "record": other_record}, proof, cookies=cookies)
    assert theirs.status_code == 404 and "未找到该信息" in theirs.text
    assert await _count(driver, record) == 0 and await _count(driver, other_record) == 0

    filed = _post(url, good, proof, cookies=cookies, follow_redirects=False)
    assert filed.status_code == 303 and filed.headers["location"] == "/me/objections"
    listed = _get(f"{api}/me/objections", cookies)
    assert listed.status_code == 200 and listed.headers["cache-control"] == "no-store"
    assert record in listed.text and "待受理" in listed.text
    assert re.search(r"\d{4}-\d{2}-\d{2}<br><small>依据：", listed.text)
    edges = subject_client(api, code).data(MINE)["myObjections"]["edges"]  # type: ignore[index]
    (mine,) = [e["node"] for e in edges if e["node"]["recordId"] == record]
    assert mine["evidence"] == [
        {"id": hashlib.sha256(PDF).hexdigest(), "name": "复议决定书.pdf",
         "type": "application/pdf", "size": len(PDF)},
    ]  # fmt: skip
    page = _get(f"{api}/subjects/{code}", {})
    assert "异议处理中" in page.text
    twice = _post(url, good, proof, cookies=cookies)
    assert twice.status_code == 409 and await _count(driver, record) == 1


async def test_post_objections_takes_files_from_subjects_only(
    api: str, driver: AsyncDriver
) -> None:
    ((code, record),) = fresh_subjects(1)
    url = f"{api}/objections"
    fields = {"recordId": record, "reasons": REASONS}
    proof = [("evidence", ("proof.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png"))]
    subject = {"Authorization": f"Bearer {subject_client(api, code).token}"}

    anonymous = _post(url, fields, proof)
    assert anonymous.status_code == 401
    partner = _post(url, fields, proof, headers={"Authorization": f"Bearer {mint('partner')}"})
    assert partner.status_code == 403
    assert partner.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    limit = 5 * 2**20
    big = [("evidence", ("scan.pdf", b"%PDF-" + b"0" * limit, "application/pdf"))]
    oversized = _post(url, fields, big, headers=subject)
    assert oversized.status_code == 400
    assert oversized.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT", "reason": "evidence",
    }  # fmt: skip
    too_many = _post(url, fields, proof * 6, headers=subject)
    assert too_many.status_code == 400
    both = _post(url, {**fields, "sanctionId": "S-X"}, proof, headers=subject)
    assert both.status_code == 400
    assert await _count(driver, record) == 0

    filed = _post(url, fields, proof, headers=subject)
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["status"] == "FILED" and body["id"].startswith("OB-")
    assert body["evidence"] == [hashlib.sha256(proof[0][1][1]).hexdigest()]
    again = _post(url, fields, [], headers=subject)
    assert again.status_code == 409
    assert again.json()["errors"][0]["extensions"]["reason"] == "open-objection"
