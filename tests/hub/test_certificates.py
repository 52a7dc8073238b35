"""Credit certificates end to end: a unit issues one to an A-class subject of its jurisdiction,
the PDF's QR code is decoded from the rendered page by zbarimg, the decoded URL opens the live
verification state, the public key verifies the token offline, and listing the subject or
lowering its grade revokes the certificate at once."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from neo4j import AsyncDriver

from graph.db import Store
from graph.rating import rate
from graph.records.listings import ListingDecision, publish_listing
from hub.settings import catalogue, get_settings
from tests.conftest import graphql, mint, unit_token

ISSUE = """mutation($code: String!) {
  issueCertificate(creditCode: $code) { id creditCode name grade issuedOn expiresOn pdfUrl }
}"""
# A-class subjects on no list, public, of a banner unit: what a certificate may be issued to.
ELIGIBLE = """
MATCH (s:Subject) WHERE s.grade IN $grades AND s.status = 'ACTIVE' AND s.disclosure = 'PUBLIC'
  AND NOT EXISTS { MATCH (x:Sanction {status: 'ACTIVE'})-[:SANCTIONED]->(s) }
  AND NOT EXISTS { MATCH (:Certificate)-[:CERTIFIES]->(s) }
RETURN s.creditCode AS code, s.division AS division, s.grade AS grade, s.name AS name
ORDER BY s.creditCode LIMIT 1
"""


async def _eligible(driver: AsyncDriver, grades: list[str]) -> dict[str, Any]:
    records, _, _ = await driver.execute_query(ELIGIBLE, grades=grades)
    assert records, f"the seeded graph has an eligible subject of {grades}"
    return dict(records[0])


def _issue(api: str, subject: dict[str, Any]) -> dict[str, Any]:
    token = unit_token("reviewer", "NMG" + subject["division"], "cert-reviewer")
    body = graphql(api, token, ISSUE, code=subject["code"])
    assert not body.get("errors"), body
    issued: dict[str, Any] = body["data"]["issueCertificate"]
    return issued


def _decode_qr(pdf: bytes, where: Path) -> str:
    """The text of the QR code on the rendered first page of the PDF."""
    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run `make browser` (poppler-utils, zbar-tools)")
    (where / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", "certificate.pdf", "page"],
        cwd=where,
        check=True,
    )
    found = subprocess.run(
        ["zbarimg", "--raw", "-q", "page.png"], cwd=where, capture_output=True, text=True
    )
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def _fetch(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30)


async def test_issue_print_scan_verify_and_revoke_on_listing(
    api: str, seeded: int, driver: AsyncDriver, store: Store, tmp_path: Path
) -> None:
    subject = await _eligible(driver, ["AAA", "AA", "A"])
    issued = _issue(api, subject)
    assert issued["grade"] == subject["grade"] and issued["creditCode"] == subject["code"]
    assert issued["issuedOn"] == date.today().isoformat()
    pdf = _fetch(issued["pdfUrl"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    url = _decode_qr(pdf.content, tmp_path)
    assert url.startswith(f"{get_settings().base_url}/verify/"), url
    valid = _fetch(url)
    assert valid.status_code == 200 and "有效" in valid.text and "已撤销" not in valid.text
    assert subject["code"] in valid.text and issued["id"] in valid.text

    # offline: the published public key verifies the token, which names the certificate
    token = url.rsplit("/", 1)[1]
    keys = _fetch(f"{api}/certificates/keys.json").json()["keys"]
    assert keys and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in keys)
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in keys if k["kid"] == kid]
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"])
    assert (claims["cid"], claims["sub"], claims["grd"]) == (
        issued["id"],
        subject["code"],
        subject["grade"],
    )

    # a forged token (one character of the signature changed) is not a certificate
    forged = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    bad = _fetch(url.replace(token, forged))
    assert bad.status_code == 400 and "无效" in bad.text

    # listed: the same QR code now says revoked, and the PDF is no longer handed out
    decision = ListingDecision(
        id=f"S-CERT-{subject['code'][-6:]}",
        subject=subject["code"],
        listing="SERIOUS_DISHONESTY",
        authority="NMG" + subject["division"],
        based_on=(),
        start=date.today(),
        end=date.today() + timedelta(days=365 * 3),
        disclosure="PUBLIC",
        decided_by="tester",
    )
    await publish_listing(store, catalogue(), decision)
    revoked = _fetch(url)
    assert revoked.status_code == 200 and "已撤销" in revoked.text
    assert "严重失信主体名单" in revoked.text
    assert _fetch(issued["pdfUrl"]).status_code == 404


async def test_a_lower_grade_revokes_and_a_higher_one_is_shown(
    api: str, seeded: int, driver: AsyncDriver, store: Store, tmp_path: Path
) -> None:
    subject = await _eligible(driver, ["AA", "A"])
    issued = _issue(api, subject)
    pdf = _fetch(issued["pdfUrl"])
    url = _decode_qr(pdf.content, tmp_path)
    # the subject now holds a better grade than the certificate states: shown as changed ...
    await driver.execute_query(
        "MATCH (c:Certificate {id: $id}) SET c.grade = 'BBB'", id=issued["id"]
    )
    changed = _fetch(url)
    assert "等级已变更" in changed.text and f"当前信用等级为 {subject['grade']}" in changed.text
    # ... and a rating below the stated grade revokes it in the rating's own write
    await driver.execute_query(
        "MATCH (c:Certificate {id: $id}) SET c.grade = 'AAA'", id=issued["id"]
    )
    rated = await rate(store, [subject["code"]])
    assert rated[subject["code"]].grade != "AAA"
    records, _, _ = await driver.execute_query(
        "MATCH (c:Certificate {id: $id}) RETURN c.status AS status, c.revokedReason AS why",
        id=issued["id"],
    )
    assert (records[0]["status"], records[0]["why"]) == ("REVOKED", "GRADE_DROPPED")
    page = _fetch(url)
    assert "已撤销" in page.text and "信用等级下降" in page.text


async def test_expired_certificate_says_so(
    api: str, seeded: int, driver: AsyncDriver, tmp_path: Path
) -> None:
    subject = await _eligible(driver, ["AAA", "AA", "A"])
    issued = _issue(api, subject)
    url = _decode_qr(_fetch(issued["pdfUrl"]).content, tmp_path)
    await driver.execute_query(
        "MATCH (c:Certificate {id: $id}) SET c.expiresOn = date() - duration('P1D')",
        id=issued["id"],
    )
    page = _fetch(url)
    assert page.status_code == 200 and "已过期" in page.text


async def test_who_may_not_obtain_one(api: str, seeded: int, driver: AsyncDriver) -> None:
    lower = await _eligible(driver, ["BBB", "BB", "B"])
    token = unit_token("reviewer", "NMG" + lower["division"], "cert-reviewer")
    refused = graphql(api, token, ISSUE, code=lower["code"])
    assert refused["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert refused["errors"][0]["extensions"]["reason"] == "grade"

    good = await _eligible(driver, ["AAA", "AA", "A"])
    other = "150802" if not good["division"].startswith("1508") else "152201"
    elsewhere = graphql(api, unit_token("reviewer", "NMG" + other, "x"), ISSUE, code=good["code"])
    assert elsewhere["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    partner = graphql(api, mint("partner"), ISSUE, code=good["code"])
    assert partner["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    records, _, _ = await driver.execute_query(
        "MATCH (c:Certificate)-[:CERTIFIES]->(:Subject {creditCode: $code}) RETURN count(c) AS n",
        code=good["code"],
    )
    assert records[0]["n"] == 0  # nothing was issued by the refused calls


def test_garbage_in_the_verification_url_is_refused_plainly(api: str) -> None:
    for token in ("x", "a.b.c", "e" * 2000):
        page = _fetch(f"{api}/verify/{token}")
        assert page.status_code == 400 and "无效" in page.text, token
