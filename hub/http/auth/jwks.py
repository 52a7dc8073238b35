"""Partner issuers' public keys, fetched from their JWKS endpoints and cached by ``kid``.

A token naming an unknown ``kid`` makes the hub refetch (keys rotate), and so does a key set older
than ``max_age`` (so a key the issuer withdrew stops working), but never more than once per
``min_refetch`` seconds per issuer: tokens with made-up kids cannot make the hub hammer the IdP.
When the endpoint is down, keys already cached keep working.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import httpx
import jwt
import structlog

from policies.issuers import Issuer

FETCH_TIMEOUT = 3.0  # seconds; a request waiting on a fetch waits at most this long
log = structlog.get_logger("hub.http.auth.jwks")


def jwks_client(ca_file: Path | None) -> httpx.AsyncClient:
    """The client that fetches issuers' key sets: httpx's usual trust store, plus ``ca_file``
    when given (``HUB_JWKS_CA_FILE``), for an IdP whose certificate a private CA signed. No
    redirects: the key set is fetched from the URL the operator wrote, nowhere else."""
    if ca_file is None:
        return httpx.AsyncClient(follow_redirects=False)
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=ca_file)
    return httpx.AsyncClient(follow_redirects=False, verify=context)


class KeysUnavailable(Exception):
    """The issuer's key set could not be fetched, and the key asked for is not cached."""


def signing_keys(document: Any, algorithms: Collection[str]) -> dict[str, jwt.PyJWK]:
    """The keys of a JWKS document that may verify this issuer's tokens: those with a ``kid``,
    meant for signatures, of an algorithm the issuer is allowed. Unusable keys are skipped."""
    if not isinstance(document, dict):
        raise ValueError("a JWKS document must be a JSON object")
    keys: dict[str, jwt.PyJWK] = {}
    for key in jwt.PyJWKSet.from_dict(document):
        kid = key.key_id
        usable = key.public_key_use in {None, "sig"} and key.algorithm_name in algorithms
        if isinstance(kid, str) and usable:
            keys.setdefault(kid, key)
    return keys


class IssuerKeys:
    """One issuer's signing keys by ``kid``, fetched on first use and refetched as described in
    the module docstring. Per process: every API worker keeps its own cache."""

    def __init__(
        self,
        issuer: Issuer,
        client: httpx.AsyncClient,
        *,
        min_refetch: float = 30.0,
        max_age: float = 300.0,
    ) -> None:
        self.issuer = issuer
        self._client = client
        self._min_refetch = min_refetch
        self._max_age = max_age
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -math.inf  # last successful fetch (monotonic clock)
        self._tried_at = -math.inf  # last attempt, successful or not
        self._failed = False  # the last attempt failed
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> jwt.PyJWK | None:
        """The key for ``kid``, or None when the issuer does not publish it.

        Raises :class:`KeysUnavailable` when the key is not cached and the last fetch failed.
        """
        if self._wants_fetch(kid):
            async with self._lock:  # concurrent requests share one fetch
                if self._wants_fetch(kid):
                    await self._fetch()
        key = self._keys.get(kid)
        if key is None and self._failed:
            raise KeysUnavailable(self.issuer.issuer)
        return key

    def _wants_fetch(self, kid: str) -> bool:
        now = time.monotonic()
        stale = now - self._fetched_at > self._max_age
        return (kid not in self._keys or stale) and now - self._tried_at >= self._min_refetch

    async def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        try:
            response = await self._client.get(self.issuer.jwks_uri, timeout=FETCH_TIMEOUT)
            response.raise_for_status()
            keys = signing_keys(response.json(), self.issuer.algorithms)
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            self._failed = True
            log.warning("jwks fetch failed", issuer=self.issuer.issuer, error=repr(exc))
            return
        self._keys, self._fetched_at, self._failed = keys, self._tried_at, False
        log.info("jwks fetched", issuer=self.issuer.issuer, kids=sorted(keys))
