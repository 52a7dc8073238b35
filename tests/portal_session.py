"""A subject's portal session as the sign-in callback leaves it, signed with the hub's session
key: for tests that try a form's refusals one request at a time. The sign-in itself, through the
loopback OpenID provider in Chromium, is tests/oidc.py's ``sign_in``."""

from __future__ import annotations

import json
import secrets
import time
from base64 import b64encode

from itsdangerous import TimestampSigner

from hub.keys import portal_session_secret
from hub.portal.session import COOKIE
from hub.settings import get_settings


def signed_in_cookie(code: str, sub: str) -> tuple[str, str]:
    """(the ``Cookie`` header's pair for the session of ``code``, its form token)."""
    token = secrets.token_urlsafe(24)
    held = {
        "subject": {"code": code, "sub": sub, "iss": "test", "exp": int(time.time()) + 600},
        "csrf": token,
    }
    signer = TimestampSigner(portal_session_secret(get_settings().keys_dir))
    value = signer.sign(b64encode(json.dumps(held).encode())).decode()
    return f"{COOKIE}={value}", token
