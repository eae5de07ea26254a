"""Outbound safety: only http(s), only public addresses unless allowed, no
redirects, bounded responses."""

from __future__ import annotations

from typing import Any

import pytest

from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from shop_manager.webhooks.safety import (
    UnsafeURLError,
    address_refusal,
    check_url,
    split_url,
)
from tests.helpers.webhooks import Answer, Receiver, fast_settings, relay_once


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http:///hook",
        "https://user:pass@example.com/hook",
        "http://example.com:99999/",
    ],
)
def test_urls_other_than_plain_http_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        split_url(url)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_internal_addresses_are_refused(address: str, kind: str) -> None:
    refusal = address_refusal(address, allow_private=False)
    assert refusal is not None
    assert kind in refusal
    assert address_refusal(address, allow_private=True) is None


def test_public_addresses_are_allowed() -> None:
    assert address_refusal("93.184.215.14", allow_private=False) is None
    assert address_refusal("2606:4700::1111", allow_private=False) is None


def test_a_host_name_is_checked_by_what_it_resolves_to() -> None:
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url("http://localhost:8080/hook", allow_private=False)
    check_url("http://localhost:8080/hook", allow_private=True)


def test_the_relay_refuses_to_connect_to_a_loopback_endpoint(
    receiver: Receiver, transactional_db: Any, make_product: Any
) -> None:
    """The check happens at connection time, so an endpoint saved before (or
    a name that re-resolved since) is refused too."""
    with fast_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        relay_once()

    assert receiver.received == []
    attempt = WebhookAttempt.objects.get(endpoint=endpoint)
    assert attempt.error.startswith(
        "refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address"
    )


def test_redirects_are_not_followed(
    endpoint: WebhookEndpoint, receiver: Receiver, make_product: Any
) -> None:
    receiver.plan = [Answer(307, headers={"location": "http://127.0.0.1:1/x"})]
    make_product()

    relay_once()

    assert len(receiver.received) == 1
    attempt = WebhookAttempt.objects.get(endpoint=endpoint)
    assert not attempt.ok
    assert attempt.status_code == 307
    assert "redirects are not followed" in attempt.error


def test_a_huge_response_is_read_only_up_to_the_cap(
    receiver: Receiver, transactional_db: Any, make_product: Any
) -> None:
    receiver.default = Answer(500, body=b"x" * 1_000_000)
    with fast_settings(WEBHOOK_MAX_RESPONSE_BYTES=1000):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        relay_once()

    attempt = WebhookAttempt.objects.get(endpoint=endpoint)
    assert attempt.status_code == 500
    assert len(attempt.error) < 400
