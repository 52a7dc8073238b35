"""The hub's webhook signatures verify with the reference implementation of Standard Webhooks
(HMAC) and with the specification's Ed25519 rule, and fail when anything signed changes."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from connectors.signing import headers, new_credentials

BODY = b'{"type":"sanction.listed","data":{"creditCode":"91152201MA0PHX0105"}}'


def test_hmac_verifies_with_the_reference_library() -> None:
    keys = new_credentials("HMAC_SHA256")
    assert keys.signing == keys.verifying and keys.signing.startswith("whsec_")
    sent = headers(keys.signing, "evt_1", int(time.time()), BODY)
    assert Webhook(keys.verifying).verify(BODY, sent)["type"] == "sanction.listed"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: ({**h, "webhook-id": "evt_2"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
        lambda h, b: (h, b.replace(b"0105", b"0106")),
    ],
)
def test_hmac_fails_when_anything_signed_changes(tamper: object) -> None:
    keys = new_credentials("HMAC_SHA256")
    sent, body = tamper(headers(keys.signing, "evt_1", int(time.time()), BODY), BODY)  # type: ignore[operator]
    with pytest.raises(WebhookVerificationError):
        Webhook(keys.verifying).verify(body, sent)


def test_another_partners_secret_fails() -> None:
    mine, theirs = new_credentials("HMAC_SHA256"), new_credentials("HMAC_SHA256")
    sent = headers(mine.signing, "evt_1", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(theirs.verifying).verify(BODY, sent)


def test_old_timestamps_are_refused_by_the_partner() -> None:
    keys = new_credentials("HMAC_SHA256")
    sent = headers(keys.signing, "evt_1", int(time.time()) - 600, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(keys.verifying).verify(BODY, sent)


def test_ed25519_verifies_as_the_specification_says() -> None:
    keys = new_credentials("ED25519")
    assert keys.signing.startswith("whsk_") and keys.verifying.startswith("whpk_")
    now = int(time.time())
    sent = headers(keys.signing, "evt_1", now, BODY)
    version, encoded = sent["webhook-signature"].split(",", 1)
    assert version == "v1a"
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys.verifying[5:]))
    public.verify(base64.b64decode(encoded), f"evt_1.{now}.".encode() + BODY)
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(encoded), f"evt_2.{now}.".encode() + BODY)
