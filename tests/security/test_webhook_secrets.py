"""Webhook signing secrets: shown once, to those who may change endpoints.

Attack: a staff user with only the "view" permission on webhook endpoints
reads an endpoint's secret (on its page, in the list, the history, or by
probing the list's filters one character at a time) and forges webhooks its
receivers accept. Safe outcome: the secret appears only in the answer that
created or rotated it, to a user allowed to do that; every other admin page
and the ``list`` command leave it out, and filters on it are refused.
"""

from __future__ import annotations

import datetime
import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint

pytestmark = pytest.mark.usefixtures("db")

ENDPOINTS = "/admin/shop_manager/webhookendpoint/"
ATTEMPTS = "/admin/shop_manager/webhookattempt/"


@pytest.fixture(autouse=True)
def _local_receivers(settings: Any) -> None:
    settings.SHOP_MANAGER = {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True}


def secret_parts(secret: str) -> list[str]:
    """The secret, and its key without the prefix (what a page would need
    to show for it to leak)."""
    return [secret, secret.removeprefix("whsec_")]


def assert_no_secret(text: str, *endpoints: WebhookEndpoint) -> None:
    for endpoint in endpoints:
        for secret in (endpoint.secret, endpoint.previous_secret):
            for part in secret_parts(secret) if secret else []:
                assert part not in text


@pytest.fixture
def endpoint() -> WebhookEndpoint:
    """An endpoint in mid-rotation: a current and a previous secret."""
    created = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook")
    created.rotate_secret(datetime.timedelta(hours=1))
    # Paused, so that "retry now" or "resume" would change it.
    WebhookEndpoint.objects.filter(pk=created.pk).update(
        paused_at=created.created, failures=3, last_error="HTTP 500"
    )
    created.refresh_from_db()
    WebhookAttempt.objects.create(endpoint=created, event_id=1, error="HTTP 500")
    return created


def staff_client(django_user_model: Any, username: str, *codenames: str) -> Client:
    user = django_user_model.objects.create_user(
        username=username, password="pass", is_staff=True
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer(django_user_model: Any) -> Client:
    return staff_client(
        django_user_model,
        "viewer",
        "view_webhookendpoint",
        "view_webhookattempt",
    )


@pytest.fixture
def editor(django_user_model: Any) -> Client:
    return staff_client(
        django_user_model,
        "editor",
        "view_webhookendpoint",
        "add_webhookendpoint",
        "change_webhookendpoint",
    )


def pages(endpoint: WebhookEndpoint) -> list[str]:
    """Every admin page about the endpoint and its attempts."""
    return [
        ENDPOINTS,
        f"{ENDPOINTS}{endpoint.pk}/change/",
        f"{ENDPOINTS}{endpoint.pk}/history/",
        ATTEMPTS,
        *(
            f"{ATTEMPTS}{pk}/change/"
            for pk in endpoint.attempts.values_list("pk", flat=True)
        ),
    ]


def test_a_view_only_user_sees_no_secret_on_any_page(
    viewer: Client, endpoint: WebhookEndpoint
) -> None:
    for page in pages(endpoint):
        answer = viewer.get(page)
        assert answer.status_code == 200, page
        assert_no_secret(answer.content.decode(), endpoint)


def test_an_editor_sees_no_secret_after_it_was_shown(
    editor: Client, endpoint: WebhookEndpoint
) -> None:
    change = editor.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()

    assert_no_secret(change, endpoint)
    assert 'name="secret"' not in change
    assert "rotate-secret/" in change  # the way to a new one


@pytest.mark.parametrize(
    "lookup",
    ["secret__startswith", "secret", "secret__regex", "previous_secret__startswith"],
)
def test_a_secret_cannot_be_probed_through_the_list_filters(
    viewer: Client, endpoint: WebhookEndpoint, lookup: str
) -> None:
    """Django's admin allows filters on any of a model's own fields in the
    query string: each right guess of the next character would list the
    endpoint, each wrong one not."""
    right = endpoint.secret[:8] if "previous" not in lookup else "whsec_"

    for value in (right, "nothing"):
        answer = viewer.get(ENDPOINTS, {lookup: value})
        assert answer.status_code == 400
        assert endpoint.url not in answer.content.decode()


def test_nor_through_the_attempts_list(
    viewer: Client, endpoint: WebhookEndpoint
) -> None:
    answer = viewer.get(ATTEMPTS, {"endpoint__secret__startswith": "whsec_"})

    assert answer.status_code == 400


def test_a_view_only_user_can_neither_rotate_nor_retry(
    viewer: Client, endpoint: WebhookEndpoint
) -> None:
    before = WebhookEndpoint.objects.values().get()
    rotate = f"{ENDPOINTS}{endpoint.pk}/rotate-secret/"

    assert viewer.get(rotate).status_code == 403
    assert viewer.post(rotate).status_code == 403
    listing = viewer.get(ENDPOINTS).content.decode()
    for action in ("rotate_secret", "retry_now", "resume"):
        assert f'value="{action}"' not in listing
        answer = viewer.post(
            ENDPOINTS, {"action": action, "_selected_action": [endpoint.pk]}
        )
        assert_no_secret(answer.content.decode(), endpoint)
    assert WebhookEndpoint.objects.values().get() == before


def test_the_secret_is_shown_once_when_the_endpoint_is_added(
    editor: Client,
) -> None:
    added = editor.post(
        f"{ENDPOINTS}add/",
        {"url": "http://127.0.0.1:9/new", "actions": "[]", "active": "on"},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert added.status_code == 200
    assert endpoint.secret in added.content.decode()
    assert "no-store" in added["Cache-Control"]
    for page in pages(endpoint):
        assert_no_secret(editor.get(page).content.decode(), endpoint)


def test_the_add_form_takes_a_given_secret_and_shows_none_before(
    editor: Client,
) -> None:
    form = editor.get(f"{ENDPOINTS}add/").content.decode()
    assert not re.search("whsec_[A-Za-z0-9+/]{8}", form)  # none made up front

    given = "whsec_" + "QUFB" * 11
    editor.post(
        f"{ENDPOINTS}add/",
        {"url": "http://127.0.0.1:9/new", "actions": "[]", "secret": given},
    )
    assert WebhookEndpoint.objects.get().secret == given


def test_rotation_shows_the_new_secret_once_and_logs_no_secret(
    editor: Client, endpoint: WebhookEndpoint
) -> None:
    old = endpoint.secret
    rotate = f"{ENDPOINTS}{endpoint.pk}/rotate-secret/"

    confirm = editor.get(rotate)
    rotated = editor.post(rotate)

    assert confirm.status_code == 200
    assert_no_secret(confirm.content.decode(), endpoint)
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.signing_secrets() == [endpoint.secret, old]
    assert rotated.status_code == 200
    assert endpoint.secret in rotated.content.decode()
    assert old not in rotated.content.decode()
    assert "no-store" in rotated["Cache-Control"]
    for page in pages(endpoint):
        assert_no_secret(editor.get(page).content.decode(), endpoint)
    (entry,) = LogEntry.objects.filter(object_id=str(endpoint.pk))
    assert "Rotated" in entry.get_change_message()
    assert_no_secret(entry.change_message, endpoint)


def test_the_rotate_action_shows_each_new_secret(
    editor: Client, endpoint: WebhookEndpoint
) -> None:
    other = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/other")
    answer = editor.post(
        ENDPOINTS,
        {"action": "rotate_secret", "_selected_action": [endpoint.pk, other.pk]},
    )

    endpoint.refresh_from_db()
    other.refresh_from_db()
    page = answer.content.decode()
    assert endpoint.secret in page
    assert other.secret in page
    assert "no-store" in answer["Cache-Control"]


def test_editing_an_endpoint_keeps_its_secret_out_of_the_form_and_history(
    editor: Client, endpoint: WebhookEndpoint
) -> None:
    secret = endpoint.secret
    answer = editor.post(
        f"{ENDPOINTS}{endpoint.pk}/change/",
        {
            "url": endpoint.url,
            "description": "ERP",
            "actions": "[]",
            "active": "on",
            "secret": "whsec_" + "QkJC" * 11,  # not a field: ignored
        },
    )

    assert answer.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.secret) == ("ERP", secret)
    history = editor.get(f"{ENDPOINTS}{endpoint.pk}/history/").content.decode()
    assert "Description" in history
    assert_no_secret(history, endpoint)


def test_the_list_command_prints_no_secret(endpoint: WebhookEndpoint) -> None:
    out = StringIO()
    call_command("shop_manager_webhooks", "list", stdout=out)

    assert endpoint.url in out.getvalue()
    assert_no_secret(out.getvalue(), endpoint)


def test_add_and_rotate_print_only_the_new_secret(endpoint: WebhookEndpoint) -> None:
    added, rotated = StringIO(), StringIO()
    call_command("shop_manager_webhooks", "add", "http://127.0.0.1:9/b", stdout=added)
    new = WebhookEndpoint.objects.latest("pk")
    before = new.secret
    call_command("shop_manager_webhooks", "rotate", str(new.pk), stdout=rotated)
    new.refresh_from_db()

    assert added.getvalue() == f"{new.pk} {before}\n"
    assert rotated.getvalue() == f"{new.pk} {new.secret}\n"
    assert_no_secret(added.getvalue() + rotated.getvalue(), endpoint)
