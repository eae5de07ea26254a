"""``shop_manager_webhooks`` and ``shop_manager_relay`` as a user runs them."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from standardwebhooks.webhooks import WebhookVerificationError

from shop_manager.webhooks.models import WebhookEndpoint
from shop_manager.webhooks.signing import generate_secret
from tests.helpers.webhooks import Receiver, verify

pytestmark = pytest.mark.usefixtures("fast")


def run(*args: str) -> str:
    out = StringIO()
    call_command("shop_manager_webhooks", *args, stdout=out)
    return out.getvalue()


def test_add_prints_the_id_and_a_new_secret(db: Any) -> None:
    pk, secret = run("add", "http://127.0.0.1:9/hook").split()

    endpoint = WebhookEndpoint.objects.get(pk=int(pk))
    assert endpoint.secret == secret
    assert secret.startswith("whsec_")
    assert endpoint.actions == []
    assert not endpoint.with_costs


def test_add_with_a_secret_and_actions(db: Any) -> None:
    secret = generate_secret()

    pk, printed = run(
        "add",
        "http://127.0.0.1:9/hook",
        "--secret",
        secret,
        "--actions",
        "deleted",
        "created",
        "--with-costs",
    ).split()

    endpoint = WebhookEndpoint.objects.get(pk=int(pk))
    assert printed == endpoint.secret == secret
    assert endpoint.actions == ["created", "deleted"]
    assert endpoint.with_costs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com/"], "Only http and https"),
        (["http://127.0.0.1/", "--secret", "hunter2"], "starts with 'whsec_'"),
    ],
)
def test_add_refuses_what_the_relay_could_not_use(
    db: Any, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run("add", *args)
    assert not WebhookEndpoint.objects.exists()


def test_add_refuses_a_loopback_url_unless_allowed(db: Any, settings: Any) -> None:
    settings.SHOP_MANAGER = {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False}
    with pytest.raises(CommandError, match="loopback"):
        run("add", "http://localhost/hook")


def test_list_shows_each_endpoint_and_its_state(db: Any) -> None:
    ok = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/a")
    WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/b",
        paused_at="2026-01-01T00:00Z",
        last_error="HTTP 500",
        actions=["created"],
    )

    lines = run("list").splitlines()

    assert lines[0].startswith(f"{ok.pk}\thttp://127.0.0.1:9/a\tall\t")
    assert lines[0].endswith("\tok")
    assert "\tcreated\t" in lines[1]
    assert lines[1].endswith("paused: HTTP 500")


def test_list_shows_inactive_and_retrying_endpoints(db: Any) -> None:
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/a", active=False)
    WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/b", failures=2, last_error="HTTP 502"
    )

    lines = run("list").splitlines()

    assert lines[0].endswith("\tinactive")
    assert lines[1].endswith("\tretrying (2 failures): HTTP 502")


def test_rotate_refuses_an_unknown_endpoint_or_a_bad_secret(db: Any) -> None:
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/a")
    with pytest.raises(CommandError, match="No webhook endpoint"):
        run("rotate", str(endpoint.pk + 1))
    with pytest.raises(CommandError, match="whsec_"):
        run("rotate", str(endpoint.pk), "--secret", "hunter2")
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == ""


def test_remove(db: Any) -> None:
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/a")

    assert run("remove", str(endpoint.pk)) == f"Removed endpoint {endpoint.pk}.\n"
    assert not WebhookEndpoint.objects.exists()
    with pytest.raises(CommandError, match="No webhook endpoint"):
        run("remove", str(endpoint.pk))


def test_rotate_signs_with_both_secrets_during_the_overlap(
    endpoint: WebhookEndpoint, receiver: Receiver, make_product: Any
) -> None:
    old = endpoint.secret
    pk, new = run("rotate", str(endpoint.pk), "--overlap", "3600").split()
    make_product()

    call_command("shop_manager_relay", "--once", stdout=StringIO())

    (received,) = receiver.received
    assert verify(new, received)
    assert verify(old, received)
    run("rotate", pk, "--overlap", "0")
    make_product(name="Coffee")
    call_command("shop_manager_relay", "--once", stdout=StringIO())
    assert receiver.received[-1].headers["webhook-signature"].count("v1,") == 1
    with pytest.raises(WebhookVerificationError):
        verify(old, receiver.received[-1])


def test_relay_once_delivers_what_is_pending_and_exits(
    endpoint: WebhookEndpoint, receiver: Receiver, make_product: Any
) -> None:
    make_product()
    out = StringIO()

    call_command("shop_manager_relay", "--once", stdout=out)

    assert len(receiver.acknowledged) == 1
    assert "stopped" in out.getvalue()
