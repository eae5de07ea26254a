"""Our signatures verify with the Standard Webhooks reference library."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shop_manager.webhooks.signing import (
    InvalidSecretError,
    generate_secret,
    secret_key,
    signature_header,
)


def headers(secrets: list[str], body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "webhook-id": "42",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, "42", timestamp, body),
    }


def test_a_signature_verifies_with_the_reference_library() -> None:
    secret = generate_secret()
    body = b'{"type":"product.created"}'

    payload = Webhook(secret).verify(body, headers([secret], body, int(time.time())))

    assert payload == {"type": "product.created"}


def test_a_changed_body_or_another_secret_does_not_verify() -> None:
    secret, other = generate_secret(), generate_secret()
    sent = headers([secret], b"{}", int(time.time()))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":1}', sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(b"{}", sent)


def test_during_a_rotation_either_secret_verifies() -> None:
    new, old = generate_secret(), generate_secret()
    sent = headers([new, old], b"{}", int(time.time()))

    assert sent["webhook-signature"].count("v1,") == 2
    assert Webhook(new).verify(b"{}", sent) == {}
    assert Webhook(old).verify(b"{}", sent) == {}


@pytest.mark.parametrize(
    "secret",
    [
        "abc",
        "whsec_not*base64",
        "whsec_" + base64.b64encode(b"short").decode(),
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
    ],
)
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(InvalidSecretError):
        secret_key(secret)
