"""Which identity providers the hub trusts for partner tokens (issuers.yaml).

Operators edit the file, not code. Every entry is validated when it is loaded: an unknown key, an
algorithm outside RS256/ES256 (never HS*, never ``none``) or a missing field stops the hub from
starting, rather than trusting an issuer in a way nobody meant.

An entry also bounds what its tokens may say: the roles and levels it may grant (a partner's IdP:
``partner`` and ``PARTNER`` unless the entry says otherwise, so it cannot mint an admin or a
region unit), and the longest lifetime (``exp - iat``) of its tokens, never over a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from policies.loader import Document, PolicyError, Shape, load, parse
from policies.principal import LEVELS, ROLES, Clearance

ALGORITHMS = frozenset({"RS256", "ES256"})
DEFAULT_ROLES = frozenset({"partner"})
DEFAULT_LEVELS = frozenset({"PARTNER"})
DEFAULT_MAX_LIFETIME = 3600  # seconds between a token's iat and exp, unless the entry says less
MAX_LIFETIME_CAP = 86400  # no issuer (the dev issuer included) may grant a token a longer life
_REQUIRED = {"issuer", "jwks_uri", "algorithms"}
_OPTIONAL = {"audience", "agencies", "max_clearance", "roles", "levels", "max_lifetime"}
SHAPE = Shape({"issuers"}, version=None, empty=True)  # an empty file trusts no issuer


@dataclass(frozen=True, slots=True)
class Issuer:
    """A trusted issuer: its tokens are checked against its own keys, algorithms and limits."""

    issuer: str  # the tokens' `iss`
    jwks_uri: str
    algorithms: tuple[str, ...]
    audience: str
    agencies: frozenset[str] | None = None  # None: any agency
    max_clearance: Clearance | None = None  # None: up to the claim
    roles: frozenset[str] = DEFAULT_ROLES  # the roles its tokens may carry
    levels: frozenset[str] = DEFAULT_LEVELS  # the levels its tokens may claim
    max_lifetime: int = DEFAULT_MAX_LIFETIME  # seconds, exp - iat at most


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}: {key} must be a non-empty string")
    return value


def _jwks_uri(raw: dict[str, Any], where: str) -> str:
    uri = _text(raw, "jwks_uri", where)
    parts = urlsplit(uri)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise PolicyError(f"{where}: jwks_uri must be an https:// or http:// URL")
    return uri


def _known(raw: dict[str, Any], key: str, known: frozenset[str], where: str) -> list[str]:
    """A non-empty list of names among ``known`` (algorithms, roles or levels)."""
    value = raw.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v in known for v in value)
    ):
        raise PolicyError(f"{where}: {key} must be a non-empty list of {', '.join(sorted(known))}")
    return value


def _algorithms(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_known(raw, "algorithms", ALGORITHMS, where)))


def _agencies(raw: dict[str, Any], where: str) -> frozenset[str] | None:
    value = raw.get("agencies")
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        raise PolicyError(f"{where}: agencies must be a non-empty list of agency codes")
    return frozenset(value)


def _max_clearance(raw: dict[str, Any], where: str) -> Clearance | None:
    value = raw.get("max_clearance")
    if value is None:
        return None
    if not isinstance(value, str) or value not in Clearance.__members__:
        raise PolicyError(f"{where}: max_clearance {value!r} is not a disclosure class")
    return Clearance[value]


def _names(raw: dict[str, Any], key: str, known: frozenset[str], where: str) -> frozenset[str]:
    """Roles or levels; absent means the partner default."""
    if raw.get(key) is None:
        return DEFAULT_ROLES if key == "roles" else DEFAULT_LEVELS
    return frozenset(_known(raw, key, known, where))


def _max_lifetime(raw: dict[str, Any], where: str) -> int:
    value = raw.get("max_lifetime", DEFAULT_MAX_LIFETIME)
    # bool is an int in Python: `max_lifetime: true` must not read as one second.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_LIFETIME_CAP:
        raise PolicyError(
            f"{where}: max_lifetime must be whole seconds from 1 to {MAX_LIFETIME_CAP}"
        )
    return value


def _where(n: int, entry: Any) -> str:
    """Names an entry by position and, when it has one, by issuer, for the operator's sake."""
    name = entry.get("issuer") if isinstance(entry, dict) else None
    return f"issuers[{n}]" + (f" ({name})" if isinstance(name, str) else "")


def _issuer(raw: Any, where: str, default_audience: str) -> Issuer:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: must be a mapping")
    unknown = set(raw) - _REQUIRED - _OPTIONAL
    if unknown:
        raise PolicyError(f"{where}: unknown keys {sorted(unknown)}")
    missing = _REQUIRED - set(raw)
    if missing:
        raise PolicyError(f"{where}: missing {sorted(missing)}")
    return Issuer(
        issuer=_text(raw, "issuer", where),
        jwks_uri=_jwks_uri(raw, where),
        algorithms=_algorithms(raw, where),
        audience=_text(raw, "audience", where) if "audience" in raw else default_audience,
        agencies=_agencies(raw, where),
        max_clearance=_max_clearance(raw, where),
        roles=_names(raw, "roles", ROLES, where),
        levels=_names(raw, "levels", LEVELS, where),
        max_lifetime=_max_lifetime(raw, where),
    )


def _issuers(raw: Document, default_audience: str) -> tuple[Issuer, ...]:
    entries = raw.get("issuers") or []
    if not isinstance(entries, list):
        raise PolicyError("issuers must be a list")
    issuers = tuple(
        _issuer(entry, _where(n, entry), default_audience) for n, entry in enumerate(entries)
    )
    names = [i.issuer for i in issuers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PolicyError(f"issuer listed twice: {', '.join(duplicates)}")
    return issuers


def parse_issuers(text: str, source: str, default_audience: str) -> tuple[Issuer, ...]:
    """Validate an issuers document; an empty one (or ``issuers:`` with no entries) trusts none."""
    return parse(text, source, SHAPE, lambda raw: _issuers(raw, default_audience))


def load_issuers(path: Path, default_audience: str) -> tuple[Issuer, ...]:
    """The issuers in ``path``; a missing file is an error, since the shipped one always exists."""
    return load(path, SHAPE, lambda raw: _issuers(raw, default_audience))
