"""The portal's repair pages, attacked and used over real HTTP: without a session they send the
visitor to sign in and store nothing; with a session but a forged or missing form token, with an
oversized or mistyped file, or without a required proof they refuse and store nothing; a proper
multipart application is filed with its files and shows on the subject's own list (no-store).

The session is the portal's own signed cookie, made here with the hub's session key (what the
OIDC callback would set), so each refusal is tried in one request; the Chromium sign-in through
the loopback provider is tests/hub/test_rights_e2e.py."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from neo4j import AsyncDriver

from graph.db import Store
from policies.credit.measures import Catalogue
from policies.rights import default_rights
from tests.portal_session import signed_in_cookie
from tests.subjects import fresh_subjects, listed_by_case

UNIT = "NMG152201"
PDF = b"%PDF-1.4\n% a receipt\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _get(url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.get(url, **kwargs)


async def _post(url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url, **kwargs)


def session_cookie(code: str) -> tuple[dict[str, str], str]:
    """A signed-in subject's portal cookie (as the sign-in callback sets it) and its form token."""
    pair, csrf = signed_in_cookie(code, f"rep-{code}")
    return {"Cookie": pair}, csrf


async def _applications(driver: AsyncDriver, target: str) -> list[dict[str, object]]:
    rows, _, _ = await driver.execute_query(
        "MATCH (a:RepairApplication {target: $t}) "
        "RETURN a.status AS status, a.proofKinds AS kinds, a.fee AS fee, "
        "COLLECT { MATCH (a)-[x:ATTACHES]->(e:Evidence) RETURN x.name ORDER BY x.name } AS files",
        t=target,
    )
    return [dict(r) for r in rows]


def _form(sanction: str, csrf: str | None, **proofs: str) -> dict[str, str]:
    data = {"sanction": sanction, "statement": "本公司已全面整改，履行全部法定义务，申请信用修复。"}
    data |= {f"proof_{kind}": text for kind, text in proofs.items()}
    return data | ({"csrf_token": csrf} if csrf is not None else {})


async def test_the_repair_form_refuses_what_it_must_and_files_the_rest(
    api: str, driver: AsyncDriver, store: Store, rules: tuple[Path, Catalogue]
) -> None:
    ((code, record), (other, _)) = fresh_subjects(2)
    decided = date.today() - timedelta(days=400)
    _, sanction = await listed_by_case(store, rules[1], code, record, decided, "portal-proposer")
    new = f"{api}/me/repairs/new"
    full = {"FULFILMENT": "罚款已缴清，缴款书 FK-1", "TRAINING": "培训结业证书 PX-9"}

    # Not signed in: every page and the form post lead to the sign-in; nothing is stored.
    for response in (
        await _get(f"{api}/me/repairs", timeout=15),
        await _get(new, params={"sanction": sanction}, timeout=15),
        await _post(new, data=_form(sanction, None, **full), timeout=15),
    ):
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("/signin")
        assert response.headers["cache-control"] == "no-store"

    mine, csrf = session_cookie(code)
    page = await _get(new, params={"sanction": sanction}, headers=mine, timeout=15)
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    assert "信用修复不收取任何费用" in page.text and 'name="csrf_token"' in page.text
    assert default_rights().repair_accept.source in page.text

    commitment = {"file_COMMITMENT": ("承诺书.pdf", PDF, "application/pdf")}
    forged = [
        ({"csrf_token": "forged"}, 403),  # a form from another site: wrong token
        ({}, 403),  # no token at all
    ]
    for extra, status in forged:
        data = {k: v for k, v in _form(sanction, None, **full).items()} | extra
        refused = await _post(new, data=data, files=commitment, headers=mine, timeout=15)
        assert refused.status_code == status and "表单已失效" in refused.text
    # Attachments: too big, or not what its name says (a script called .pdf).
    big = {"file_COMMITMENT": ("承诺书.pdf", PDF + b"0" * (5 * 2**20), "application/pdf")}
    fake = {"file_COMMITMENT": ("承诺书.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf")}
    for files in (big, fake):
        refused = await _post(new, data=_form(sanction, csrf, **full), files=files, headers=mine,
                             timeout=30)  # fmt: skip
        assert refused.status_code == 400 and "附件不符合要求" in refused.text
    # Without the commitment (neither text nor file): named, in Chinese.
    refused = await _post(new, data=_form(sanction, csrf, **full), headers=mine, timeout=15)
    assert refused.status_code == 400 and "信用修复承诺书" in refused.text
    # Another subject's listing reads as unknown.
    theirs, their_csrf = session_cookie(other)
    stolen = await _post(new, data=_form(sanction, their_csrf, **full), files=commitment,
                        headers=theirs, timeout=15)  # fmt: skip
    assert stolen.status_code == 404 and "未找到" in stolen.text
    assert await _applications(driver, sanction) == []

    both = [
        ("file_COMMITMENT", ("承诺书.pdf", PDF, "application/pdf")),
        ("file_FULFILMENT", ("缴款书.png", PNG, "image/png")),
    ]
    filed = await _post(new, data=_form(sanction, csrf, **full), files=both, headers=mine,
                       timeout=15)  # fmt: skip
    assert filed.status_code == 303 and filed.headers["location"] == "/me/repairs"
    assert await _applications(driver, sanction) == [
        {"status": "FILED", "kinds": ["FULFILMENT", "COMMITMENT", "TRAINING"], "fee": 0,
         "files": ["承诺书.pdf", "缴款书.png"]},
    ]  # fmt: skip
    listed = await _get(f"{api}/me/repairs", headers=mine, timeout=15)
    assert listed.status_code == 200 and "no-store" in listed.headers["cache-control"]
    assert sanction in listed.text and "已提交，待受理" in listed.text
    assert "不收取任何费用" in listed.text
    # The other subject's list does not show it.
    their_list = await _get(f"{api}/me/repairs", headers=theirs, timeout=15)
    assert their_list.status_code == 200 and sanction not in their_list.text
