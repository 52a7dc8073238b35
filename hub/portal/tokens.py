"""The signed token in a certificate's QR code: a compact JWS (RFC 7515) with EdDSA over
Ed25519 (RFC 8037), and the keys that sign and verify it.

The token holds the certificate id, the credit code, the grade and the issue and expiry days,
nothing personal, and is short enough for a QR code a phone reads off paper. Its header names
the key (``kid``, the first 11 characters of the key's RFC 7638 thumbprint), so keys can rotate:
``hub certificates rotate-key`` retires the signing key, whose public half keeps verifying what
it signed, and the next certificate is signed by a new one. The public keys are published as a
JWK Set at ``/certificates/keys.json``, so a bidding platform can verify a certificate offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hub.keys import certificate_seed

ALGORITHM = "EdDSA"
RETIRED = "certificate-ed25519.*.retired.hex"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    x = _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    kid = _b64(hashlib.sha256(canonical.encode()).digest())[:11]
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"}


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: Ed25519PrivateKey
    kid: str


def signing_key(keys_dir: Path) -> SigningKey:
    """The current key, generated into the data directory on first use."""
    key = Ed25519PrivateKey.from_private_bytes(certificate_seed(keys_dir))
    return SigningKey(key, public_jwk(key.public_key())["kid"])


def verification_keys(keys_dir: Path) -> dict[str, Ed25519PublicKey]:
    """Every key that may have signed a certificate still in circulation, by ``kid``. Read once
    per state of the directory: a rotation (a file renamed, a new one made) changes its mtime,
    so every API process sees it at the next scan without reading key files on each one."""
    signing_key(keys_dir)  # the current key exists before the directory's state is taken
    return _keys_in(keys_dir, keys_dir.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _keys_in(keys_dir: Path, stamp: int) -> dict[str, Ed25519PublicKey]:
    keys = [signing_key(keys_dir).key.public_key()]
    for path in sorted(keys_dir.glob(RETIRED)):
        seed = bytes.fromhex(path.read_text().strip())
        keys.append(Ed25519PrivateKey.from_private_bytes(seed).public_key())
    return {public_jwk(k)["kid"]: k for k in keys}


def jwks(keys_dir: Path) -> dict[str, Any]:
    return {"keys": [public_jwk(k) for k in verification_keys(keys_dir).values()]}


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time.min, UTC).timestamp())


@dataclass(frozen=True, slots=True)
class Claims:
    certificate: str
    credit_code: str
    grade: str
    issued_on: date
    expires_on: date


def sign(key: SigningKey, claims: Claims) -> str:
    payload = {
        "cid": claims.certificate,
        "sub": claims.credit_code,
        "grd": claims.grade,
        "iat": _epoch(claims.issued_on),
        "exp": _epoch(claims.expires_on),
    }
    return jwt.encode(payload, key.key, algorithm=ALGORITHM, headers={"kid": key.kid})


class BadToken(Exception):
    """Not a certificate token this hub signed (garbled, unknown key, bad signature)."""


def verify(token: str, keys: dict[str, Ed25519PublicKey]) -> Claims:
    """The claims of a token signed by one of ``keys``; expiry is the caller's to judge, since
    an expired certificate is shown as expired, not as forged."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise BadToken("unknown key")
        raw = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "require": ["cid", "sub", "grd", "iat", "exp"]},
        )
        return Claims(
            str(raw["cid"]),
            str(raw["sub"]),
            str(raw["grd"]),
            datetime.fromtimestamp(int(raw["iat"]), UTC).date(),
            datetime.fromtimestamp(int(raw["exp"]), UTC).date(),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise BadToken(str(exc)) from exc
