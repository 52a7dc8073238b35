"""Partner onboarding: registering a partner, or rotating its keys, with new credentials.

One way for the GraphQL mutations and the ``hub partners`` commands alike.
"""

from __future__ import annotations

from typing import Any

from connectors.signing import new_credentials
from graph.db import Store
from graph.exchange.partners import Keys, Partner, find, register, rotate_keys
from policies.credit.measures import Catalogue
from policies.targets import TargetRule


def new_keys(scheme: str) -> Keys:
    """Fresh credentials: Ed25519 when asked for, an HMAC-SHA256 shared secret otherwise."""
    made = new_credentials("ED25519" if scheme == "ED25519" else "HMAC_SHA256")
    return Keys(made.scheme, made.signing, made.verifying)


async def onboard(
    store: Store,
    catalogue: Catalogue,
    fields: dict[str, Any],
    scheme: str,
    targets: TargetRule,
) -> tuple[Partner, Keys]:
    """Register a partner with new keys; the caller shows ``keys.verifying`` to it once (the hub
    keeps no way to show it again). Raises :class:`graph.exchange.partners.PartnerError`."""
    keys = new_keys(scheme)
    return await register(store, catalogue, fields, keys, targets), keys


async def rotate(store: Store, code: str, scheme: str | None) -> tuple[Partner, Keys] | None:
    """New keys for a partner, in its current scheme unless ``scheme`` switches it; the old keys
    stop at once. ``None`` when there is no such partner."""
    current = await find(store, code)
    if current is None:
        return None
    keys = new_keys(scheme or current.scheme)
    saved = await rotate_keys(store, code, keys)
    return None if saved is None else (saved, keys)
