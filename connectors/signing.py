"""Webhook signatures as the Standard Webhooks specification defines them.

Every request carries ``webhook-id`` (the event id, for the partner to drop duplicates),
``webhook-timestamp`` (Unix seconds, signed, so a replay outside the partner's tolerance fails)
and ``webhook-signature``: ``v1,<base64 HMAC-SHA256>`` with a shared ``whsec_`` secret, or
``v1a,<base64 Ed25519>`` with the hub's ``whsk_`` key, whose ``whpk_`` public half the partner
holds. The signed content is ``{id}.{timestamp}.{body}``; partners verify with any
Standard Webhooks library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

Scheme = Literal["HMAC_SHA256", "ED25519"]
SECRET_PREFIX, SIGNING_KEY_PREFIX, PUBLIC_KEY_PREFIX = "whsec_", "whsk_", "whpk_"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the hub keeps to sign for one partner, and what the partner is given to verify."""

    scheme: Scheme
    signing: str  # whsec_… (shared) or whsk_… (the hub's private key)
    verifying: str  # whsec_… again, or whpk_…


def new_credentials(scheme: Scheme) -> Credentials:
    if scheme == "HMAC_SHA256":
        secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
        return Credentials(scheme, secret, secret)
    key = Ed25519PrivateKey.generate()
    raw_private = key.private_bytes_raw()
    raw_public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Credentials(
        scheme,
        SIGNING_KEY_PREFIX + base64.b64encode(raw_private).decode(),
        PUBLIC_KEY_PREFIX + base64.b64encode(raw_public).decode(),
    )


def _key_bytes(value: str, prefix: str) -> bytes:
    if not value.startswith(prefix):
        raise ValueError(f"a signing key of this scheme starts with {prefix}")
    return base64.b64decode(value.removeprefix(prefix))


def signature(signing: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one request."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    if signing.startswith(SECRET_PREFIX):
        digest = hmac.new(_key_bytes(signing, SECRET_PREFIX), content, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()
    key = Ed25519PrivateKey.from_private_bytes(_key_bytes(signing, SIGNING_KEY_PREFIX))
    return "v1a," + base64.b64encode(key.sign(content)).decode()


def headers(signing: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(signing, msg_id, timestamp, body),
    }
