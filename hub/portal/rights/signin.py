"""The portal's sign-in: OpenID Connect (authorization code with PKCE) through the providers of
signin.yaml, with Authlib as the hub's client, and sign-out.

The hub keeps no passwords: a company proves who it is at the provincial government service
network, and the network's ID token (signature checked against its JWKS with the algorithms the
file allows; ``iss``, ``aud``, ``exp``, ``nonce`` checked; ``state`` matched to this browser's
session) names its unified social credit code. Anything else (a forged or replayed state, a code
issued to another client, a token from another issuer, a missing or invalid code) answers a
Chinese error page and starts no session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from graph.identifiers import InvalidIdentifier, validate_uscc
from hub.portal.session import FORM_FIELD, csrf_ok, sign_in, sign_out, signed_in
from hub.portal.site import HEADERS, render_page
from hub.settings import Settings
from policies.signin import Provider, load_signin

log = logging.getLogger(__name__)
CHOSEN = "signin_provider"  # the session key naming the provider a sign-in started with
CALLBACK = "/signin/callback"
FAILED = (AuthlibBaseError, JoseError, httpx.HTTPError, KeyError, TypeError, ValueError)


@dataclass(frozen=True, slots=True)
class SignIn:
    """The providers the portal offers, their Authlib clients, and how long a session lasts."""

    providers: dict[str, Provider]
    oauth: OAuth
    session_seconds: int
    callback: str  # the redirect URI registered at every provider

    def client(self, name: str) -> StarletteOAuth2App:
        found: StarletteOAuth2App = self.oauth.create_client(name)
        return found


def sign_in_clients(settings: Settings) -> SignIn:
    """Clients for the providers in ``HUB_SIGNIN_FILE`` (validated now: a bad file stops the
    start); their discovery documents and keys are fetched on first use."""
    providers = {p.name: p for p in load_signin(settings.signin_file)}
    oauth = OAuth()
    for p in providers.values():
        where: dict[str, Any] = {"server_metadata_url": p.discovery}
        if p.endpoints is not None:  # no discovery document: the file names the endpoints
            where = {
                "authorize_url": p.endpoints.authorization,
                "access_token_url": p.endpoints.token,
                "jwks_uri": p.endpoints.jwks,
                "issuer": p.issuer,
            }
        oauth.register(
            p.name,
            client_id=p.client_id,
            client_secret=settings.signin_client_secret.get_secret_value(),
            client_kwargs={
                "scope": " ".join(p.scopes),
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic",
                "timeout": 10,
            },
            **where,
        )
    return SignIn(providers, oauth, settings.portal_session_seconds, settings.base_url + CALLBACK)


async def _ready(signin: SignIn, provider: Provider) -> StarletteOAuth2App:
    """The provider's client with its metadata loaded, its issuer the configured one and the ID
    token's algorithms pinned to the file's (not to whatever the discovery document offers)."""
    client = signin.client(provider.name)
    metadata = await client.load_server_metadata()
    if metadata.get("issuer", provider.issuer) != provider.issuer:
        raise ValueError(f"{provider.name}: discovery names issuer {metadata.get('issuer')!r}")
    metadata["id_token_signing_alg_values_supported"] = list(provider.algorithms)
    return client


def _signin(request: Request) -> SignIn:
    found: SignIn = request.app.state.signin
    return found


def refused(request: Request, message: str, status: int) -> Response:
    """The Chinese error page of a sign-in that did not happen (no session is left behind)."""
    sign_out(request)
    return render_page(request, "rights/signin_error.html", {"message": message}, status=status)


async def start(request: Request) -> Response:
    """``GET /signin``: the providers' buttons; ``?provider=NAME`` goes to that provider."""
    if signed_in(request) is not None:
        return RedirectResponse("/me", status_code=303, headers=HEADERS)
    signin = _signin(request)
    name = request.query_params.get("provider")
    if name is None:
        providers = list(signin.providers.values())
        return render_page(request, "rights/signin.html", {"providers": providers})
    provider = signin.providers.get(name)
    if provider is None:
        return render_page(request, "rights/signin.html", {"providers": [], "unknown": True}, 404)
    try:
        client = await _ready(signin, provider)
        sign_out(request)  # a fresh session: no state of an earlier, abandoned attempt lingers
        request.session[CHOSEN] = provider.name
        response: Response = await client.authorize_redirect(request, signin.callback)
    except FAILED as exc:
        log.warning("sign-in with %s could not start: %s", provider.name, exc)
        return refused(request, "统一身份认证服务暂时无法访问，请稍后再试。", 503)
    response.headers.update(HEADERS)
    return response


async def callback(request: Request) -> Response:
    """``GET /signin/callback``: the provider's answer; a session only for a verified token
    carrying a valid unified social credit code."""
    signin = _signin(request)
    provider = signin.providers.get(str(request.session.get(CHOSEN)))
    if provider is None:
        return refused(request, "登录请求无效或已过期，请重新登录。", 400)
    try:
        client = await _ready(signin, provider)
        token = await client.authorize_access_token(
            request, claims_options={"iss": {"essential": True, "values": [provider.issuer]}}
        )
    except AuthlibBaseError as exc:
        log.warning("sign-in with %s refused: %s", provider.name, exc)
        state = getattr(exc, "error", "") == "mismatching_state"
        message = "登录请求无效或已过期，请重新登录。" if state else "身份认证未通过，请重新登录。"
        return refused(request, message, 400 if state else 401)
    except FAILED as exc:
        log.warning("sign-in with %s refused: %s", provider.name, exc)
        return refused(request, "身份认证未通过，请重新登录。", 401)
    claims = token.get("userinfo")  # set only when the ID token was verified
    code = claims.get(provider.credit_code_claim) if claims else None
    try:
        credit_code = validate_uscc(code) if isinstance(code, str) else None
    except InvalidIdentifier:
        credit_code = None
    if claims is None or credit_code is None or not claims.get("sub"):
        return refused(request, "认证结果中没有有效的统一社会信用代码，无法登录。", 401)
    ttl = min(provider.max_session, signin.session_seconds)
    sign_in(
        request, credit_code=credit_code, sub=str(claims["sub"]), issuer=provider.issuer, ttl=ttl
    )
    return RedirectResponse("/me", status_code=303, headers=HEADERS)


async def sign_out_form(request: Request) -> Response:
    """``POST /signout``: ends the session when the form carries the session's token."""
    async with request.form() as form:
        sent = form.get(FORM_FIELD)
    if signed_in(request) is not None and not csrf_ok(request, sent):
        return render_page(
            request, "rights/signin_error.html", {"message": "表单已失效，请刷新页面后重试。"}, 403
        )
    sign_out(request)
    return RedirectResponse("/", status_code=303, headers=HEADERS)
