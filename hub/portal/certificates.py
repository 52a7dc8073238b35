"""Certificates on the portal: the printable PDF, the verification page a QR code opens, and the
public keys that let anyone verify a certificate's token offline.

``/verify/{token}`` shows the live state in one glance: valid; valid with a grade that changed
since issue (upwards: a fall revokes); revoked (when and why); expired; or not a certificate of
this hub. It is never cached: the state is read from the graph on every scan.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from neo4j.exceptions import DriverError, Neo4jError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from graph.certificates import state
from hub.documents.certificate import CertificateFacts, render
from hub.portal.reads import GRADE_CLASS
from hub.portal.site import HEADERS, render_page, store_of, unavailable
from hub.portal.tokens import (
    BadToken,
    Claims,
    jwks,
    sign,
    signing_key,
    verification_keys,
    verify,
)
from policies.credit import listings

NO_STORE = {**HEADERS, "Cache-Control": "no-store"}
_MAX_TOKEN = 1024


def reason_text(reason: str | None) -> str:
    if reason == "GRADE_DROPPED":
        return "信用等级下降"
    if reason and reason.startswith("LISTED:"):
        listing = reason.removeprefix("LISTED:")
        return f"被列入{listings.NAMES.get(listing, listing)}"
    return reason or ""


def verdict(claims: Claims, stored: dict[str, Any] | None, today: date) -> dict[str, Any]:
    """What a scan shows: ``state`` is valid, changed, revoked, expired or invalid."""
    if stored is None or stored["creditCode"] != claims.credit_code:
        return {"state": "invalid"}
    shown = {
        "id": stored["id"],
        "name": stored["name"],
        "credit_code": stored["creditCode"],
        "grade": stored["grade"],
        "grade_class": GRADE_CLASS.get(stored["grade"][:1], ""),
        "issued_on": stored["issuedOn"],
        "expires_on": stored["expiresOn"],
    }
    if stored["status"] == "REVOKED":
        return {
            **shown,
            "state": "revoked",
            "revoked_on": stored.get("revokedOn"),
            "reason": reason_text(stored.get("revokedReason")),
        }
    if date.fromisoformat(stored["expiresOn"]) < today:
        return {**shown, "state": "expired"}
    if stored.get("gradeNow") != stored["grade"]:
        return {**shown, "state": "changed", "grade_now": stored.get("gradeNow")}
    return {**shown, "state": "valid"}


async def verify_page(request: Request) -> Response:
    token = request.path_params["token"]
    keys = verification_keys(request.app.state.settings.keys_dir)
    try:
        if len(token) > _MAX_TOKEN:
            raise BadToken("too long")
        claims = verify(token, keys)
    except BadToken:
        return render_page(request, "verify.html", {"v": {"state": "invalid"}}, status=400)
    try:
        stored = await state(store_of(request), claims.certificate)
    except (Neo4jError, DriverError):
        return unavailable(request)
    shown = verdict(claims, stored, date.today())
    response = render_page(
        request, "verify.html", {"v": shown}, status=400 if shown["state"] == "invalid" else 200
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def certificate_pdf(request: Request) -> Response:
    """The printable certificate of a valid certificate id (it holds nothing beyond the QR)."""
    settings = request.app.state.settings
    try:
        stored = await state(store_of(request), request.path_params["id"])
    except (Neo4jError, DriverError):
        return unavailable(request)
    if stored is None or stored["status"] != "VALID":
        return render_page(request, "not_found.html", {}, status=404)
    issued = date.fromisoformat(stored["issuedOn"])
    expires = date.fromisoformat(stored["expiresOn"])
    claims = Claims(stored["id"], stored["creditCode"], stored["grade"], issued, expires)
    token = sign(signing_key(settings.keys_dir), claims)
    body = render(
        CertificateFacts(
            stored["id"],
            stored["name"],
            stored["creditCode"],
            stored["grade"],
            issued,
            expires,
            f"{settings.base_url}/verify/{token}",
        )
    )
    return Response(
        body,
        media_type="application/pdf",
        headers={**NO_STORE, "Content-Disposition": f'inline; filename="{stored["id"]}.pdf"'},
    )


async def public_keys(request: Request) -> Response:
    return JSONResponse(
        jwks(request.app.state.settings.keys_dir),
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/verify/{token}", verify_page),
        Route("/certificates/keys.json", public_keys),
        Route("/certificates/{id}.pdf", certificate_pdf),
    ]
