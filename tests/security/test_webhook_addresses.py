"""IPv6 forms that reach an IPv4 host are judged as that IPv4 host.

Attack: whoever manages webhook endpoints types ``http://[64:ff9b::127.0.0.1]/``
(NAT64), ``[2002:7f00:1::]`` (6to4) or ``[::127.0.0.1]`` (IPv4-compatible) to
make the relay POST to a loopback or private service. Safe outcome: refused
when the endpoint is added (command and admin) and again on every connection
the relay makes, like the IPv4 address they carry.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from shop_manager.webhooks.safety import address_refusal
from tests.helpers.webhooks import fast_settings, relay_once

# Each form, written as an endpoint's host: its name and the IPv4 address
# it reaches.
EMBEDDING = {
    "nat64": ("64:ff9b::127.0.0.1", "NAT64", "127.0.0.1"),
    "nat64-private": ("64:ff9b::10.1.2.3", "NAT64", "10.1.2.3"),
    "nat64-metadata": ("64:ff9b::169.254.169.254", "NAT64", "169.254.169.254"),
    "6to4": ("2002:7f00:1::", "6to4", "127.0.0.1"),
    "ipv4-compatible": ("::127.0.0.1", "IPv4-compatible", "127.0.0.1"),
    "ipv4-mapped": ("::ffff:127.0.0.1", "IPv4-mapped", "127.0.0.1"),
    # Teredo stores the client's address inverted: 80ff:fffe is 127.0.0.1.
    "teredo-client": (
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "Teredo client",
        "127.0.0.1",
    ),
    # A public client (f7f7:f7f7 is 8.8.8.8) behind a private server.
    "teredo-server": ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "Teredo server", "10.0.0.1"),
}
forms = pytest.mark.parametrize(
    ("address", "form", "ipv4"), EMBEDDING.values(), ids=EMBEDDING.keys()
)
NO_PRIVATE = {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False}


@forms
def test_an_ipv6_form_is_refused_like_the_ipv4_address_it_carries(
    address: str, form: str, ipv4: str
) -> None:
    refusal = address_refusal(address, allow_private=False)
    ipv4_refusal = address_refusal(ipv4, allow_private=False)

    assert refusal is not None
    assert ipv4_refusal is not None
    # "64:ff9b::127.0.0.1 (NAT64 127.0.0.1), a loopback address"
    assert refusal == f"{address} ({form} {ipv4}), {ipv4_refusal.split(', ')[1]}"


def test_local_use_nat64_is_refused_whole() -> None:
    """64:ff9b:1::/48 (RFC 8215) is for one network's own use, and where the
    IPv4 address sits in it depends on that network's prefix length."""
    refusal = address_refusal("64:ff9b:1::7f00:1", allow_private=False)

    assert refusal == "64:ff9b:1::7f00:1, a local-use NAT64 address"


@pytest.mark.parametrize(
    "address", ["64:ff9b::8.8.8.8", "::ffff:8.8.8.8", "2606:4700::1111"]
)
def test_a_form_of_a_public_address_is_allowed(address: str) -> None:
    assert address_refusal(address, allow_private=False) is None


@forms
def test_adding_such_an_endpoint_is_refused(
    admin_client: Any, address: str, form: str, ipv4: str
) -> None:
    url = f"http://[{address}]:8080/hook"
    with fast_settings(**NO_PRIVATE):
        with pytest.raises(CommandError, match=rf"\({form} {ipv4}\)"):
            call_command("shop_manager_webhooks", "add", url, stdout=StringIO())
        page = admin_client.post(
            "/admin/shop_manager/webhookendpoint/add/",
            {"url": url, "actions": "[]", "active": "on"},
        )

    assert page.status_code == 200
    assert f"({form} {ipv4})" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()


@forms
def test_the_relay_refuses_to_connect_to_such_an_endpoint(
    transactional_db: Any, make_product: Any, address: str, form: str, ipv4: str
) -> None:
    """An endpoint saved before the check existed (or by code that skipped
    it) is refused at connection time, before any packet leaves."""
    with fast_settings(**NO_PRIVATE):
        endpoint = WebhookEndpoint.objects.create(url=f"http://[{address}]:8080/")
        make_product()
        relay_once()

    attempt = WebhookAttempt.objects.get(endpoint=endpoint)
    assert attempt.error.startswith(f"refused: {address} resolves to ")
    assert f"({form} {ipv4})" in attempt.error
    endpoint.refresh_from_db()
    assert endpoint.failures == 1
