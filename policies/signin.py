"""Which OpenID providers a company signs in through on the portal (signin.yaml).

Like issuers.yaml for partner tokens, every entry is validated when it is loaded: an unknown key,
an algorithm outside RS256/ES256, scopes without ``openid``, a URL that is not http(s), or a
session longer than a day stops the hub from starting, rather than signing subjects in through a
provider nobody meant. The client secret is not here: it comes from the environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, mapping, parse

SIGNIN_FILE = POLICY_DIR / "signin.yaml"
ALGORITHMS = frozenset({"RS256", "ES256"})
MAX_SESSION_CAP = 86400  # seconds: no portal session lasts longer than a day
MIN_SESSION = 60
SHAPE = Shape({"providers"}, version=None, empty=True)  # an empty file offers no sign-in
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_REQUIRED = (
    "name",
    "title",
    "issuer",
    "client_id",
    "credit_code_claim",
    "scopes",
    "algorithms",
    "max_session",
)
_ENDPOINTS = ("authorization", "token", "jwks")


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider the portal offers: where it is, how the hub is known there, what it trusts."""

    name: str
    title: str
    issuer: str
    client_id: str
    credit_code_claim: str
    scopes: tuple[str, ...]
    algorithms: tuple[str, ...]
    max_session: int
    discovery: str | None = None  # its /.well-known/openid-configuration
    endpoints: Endpoints | None = None  # when it publishes no discovery document


def _text(raw: Document, key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}: {key} must be a non-empty string")
    return value


def _url(value: Any, key: str, where: str) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in {"https", "http"} or not parts.hostname:
        raise PolicyError(f"{where}: {key} must be an https:// or http:// URL")
    return str(value)


def _names(raw: Document, key: str, where: str, known: frozenset[str] | None) -> tuple[str, ...]:
    value = raw.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v and (known is None or v in known) for v in value)
    ):
        allowed = f" of {', '.join(sorted(known))}" if known else " of names"
        raise PolicyError(f"{where}: {key} must be a non-empty list{allowed}")
    return tuple(dict.fromkeys(value))


def _max_session(raw: Document, where: str) -> int:
    value = raw.get("max_session")
    # bool is an int in Python: `max_session: true` must not read as one second.
    if not isinstance(value, int) or isinstance(value, bool):
        value = 0
    if not MIN_SESSION <= value <= MAX_SESSION_CAP:
        raise PolicyError(
            f"{where}: max_session must be whole seconds from {MIN_SESSION} to {MAX_SESSION_CAP}"
        )
    return value


def _endpoints(raw: Document, where: str) -> tuple[str | None, Endpoints | None]:
    """The discovery URL or the explicit endpoints: exactly one of the two."""
    if ("discovery" in raw) == ("endpoints" in raw):
        raise PolicyError(f"{where}: give either discovery or endpoints, not both or neither")
    if "discovery" in raw:
        return _url(raw["discovery"], "discovery", where), None
    given = mapping(raw["endpoints"], f"{where}.endpoints", _ENDPOINTS)
    return None, Endpoints(
        *(_url(given[k], f"endpoints.{k}", where) for k in _ENDPOINTS)  # in field order
    )


def _provider(raw: Any, where: str) -> Provider:
    raw = mapping(raw, where, _REQUIRED, ("discovery", "endpoints"))
    name = _text(raw, "name", where)
    if not _NAME.match(name):
        raise PolicyError(f"{where}: name must be 1-32 letters, digits, - or _")
    scopes = _names(raw, "scopes", where, None)
    if "openid" not in scopes:
        raise PolicyError(f"{where}: scopes must include openid")
    discovery, endpoints = _endpoints(raw, where)
    return Provider(
        name=name,
        title=_text(raw, "title", where),
        issuer=_url(raw["issuer"], "issuer", where),
        client_id=_text(raw, "client_id", where),
        credit_code_claim=_text(raw, "credit_code_claim", where),
        scopes=scopes,
        algorithms=_names(raw, "algorithms", where, ALGORITHMS),
        max_session=_max_session(raw, where),
        discovery=discovery,
        endpoints=endpoints,
    )


def _where(n: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"providers[{n}]" + (f" ({name})" if isinstance(name, str) else "")


def _providers(raw: Document) -> tuple[Provider, ...]:
    entries = raw.get("providers") or []
    if not isinstance(entries, list):
        raise PolicyError("providers must be a list")
    found = tuple(_provider(entry, _where(n, entry)) for n, entry in enumerate(entries))
    names = [p.name for p in found]
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise PolicyError(f"provider listed twice: {', '.join(twice)}")
    return found


def parse_signin(text: str, source: str) -> tuple[Provider, ...]:
    """Validate a sign-in document; an empty one (or ``providers:`` alone) offers none."""
    return parse(text, source, SHAPE, _providers)


def load_signin(path: Path = SIGNIN_FILE) -> tuple[Provider, ...]:
    """The providers in ``path``; a missing file is an error, since the shipped one exists."""
    return load(path, SHAPE, _providers)
