"""Local secrets, generated into the data directory on first use and never committed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret(path: Path) -> bytes:
    """Read a secret, creating it (0600, atomically) when absent, so every process agrees."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return bytes.fromhex(path.read_text().strip())


def dev_jwt_secret(keys_dir: Path) -> bytes:
    """HS256 key for development tokens minted by ``hub token``."""
    return _secret(keys_dir / "dev-jwt.hex")


def pii_secret(keys_dir: Path) -> bytes:
    """HMAC key for resident-ID hashes; losing it breaks matching of people across imports."""
    return _secret(keys_dir / "pii-hmac.hex")


def audit_checkpoint_secret(keys_dir: Path) -> bytes:
    """The key that signs audit-chain checkpoints (graph/audit_checkpoints.py)."""
    return _secret(keys_dir / "audit-checkpoint.hex")


def dev_metrics_token(keys_dir: Path) -> str:
    """Bearer token a local Prometheus scrapes ``/metrics`` with; the file is the token, so
    ``authorization: credentials_file`` can point at it."""
    return _secret(keys_dir / "metrics-token.hex").hex()


def certificate_seed(keys_dir: Path) -> bytes:
    """Ed25519 seed of the key that signs certificates' QR tokens (hub/portal/tokens.py)."""
    return _secret(keys_dir / "certificate-ed25519.hex")


def retire_certificate_key(keys_dir: Path) -> Path | None:
    """Move the signing key aside (it keeps verifying); the next use makes a new one."""
    current = keys_dir / "certificate-ed25519.hex"
    if not current.exists():
        return None
    retired = keys_dir / f"certificate-ed25519.{secrets.token_hex(4)}.retired.hex"
    current.rename(retired)
    return retired


def portal_session_secret(keys_dir: Path) -> str:
    """Signs the portal's session cookie (a signed-in subject); a new key signs everyone out."""
    return _secret(keys_dir / "portal-session.hex").hex()
