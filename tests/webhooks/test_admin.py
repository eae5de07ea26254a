"""The admin: endpoints editable, paused ones shown with their last error,
"retry now" and "resume", attempts read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from tests.helpers.webhooks import (
    Answer,
    Receiver,
    fast_settings,
    relay_once,
    relay_until,
)

CHANGELIST = "/admin/shop_manager/webhookendpoint/"


def paused(url: str, failures: int = 3) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=url,
        paused_at=timezone.now(),
        failures=failures,
        failing_since=timezone.now(),
        last_error="HTTP 503: down for maintenance",
    )


@pytest.mark.usefixtures("fast")
def test_a_paused_endpoint_shows_its_last_error(admin_client: Any) -> None:
    paused("http://127.0.0.1:9/hook")

    page = admin_client.get(CHANGELIST).content.decode()

    assert "paused: HTTP 503: down for maintenance" in page


@pytest.mark.usefixtures("fast")
def test_the_state_filter_and_column(admin_client: Any) -> None:
    paused("http://127.0.0.1:9/paused")
    WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/retrying", failures=2, last_error="HTTP 502"
    )
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/off", active=False)

    only_paused = admin_client.get(f"{CHANGELIST}?state=paused").content.decode()
    retrying = admin_client.get(f"{CHANGELIST}?state=failing").content.decode()
    everything = admin_client.get(CHANGELIST).content.decode()

    assert "/paused" in only_paused
    assert "/retrying" not in only_paused
    assert "retrying (2 failures): HTTP 502" in retrying
    assert "/paused" not in retrying
    assert "inactive" in everything


@pytest.mark.usefixtures("fast")
def test_endpoints_are_added_in_the_admin_and_bad_urls_refused(
    admin_client: Any,
) -> None:
    form = {"url": "ftp://example.com/", "actions": "[]", "active": "on"}
    form["secret"] = "whsec_" + "A" * 44

    refused = admin_client.post(f"{CHANGELIST}add/", form)
    form["url"] = "http://127.0.0.1:9/hook"
    added = admin_client.post(f"{CHANGELIST}add/", form)

    assert refused.status_code == 200
    assert "Only http and https" in refused.content.decode()
    assert added.status_code == 302
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:9/hook"


def test_retry_now_and_resume(
    admin_client: Any, receiver: Receiver, transactional_db: Any, make_product: Any
) -> None:
    with fast_settings(WEBHOOK_PAUSE_AFTER_FAILURES=2):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        receiver.default = Answer(500)
        make_product()
        relay_until(
            lambda: WebhookEndpoint.objects.filter(paused_at__isnull=False).exists()
        )
        relay_once()
        endpoint.refresh_from_db()
        assert endpoint.failures == 2
        assert WebhookAttempt.objects.count() == 2  # paused: no more attempts

        admin_client.post(
            CHANGELIST, {"action": "retry_now", "_selected_action": [endpoint.pk]}
        )
        relay_once()
        endpoint.refresh_from_db()
        assert endpoint.is_paused  # one more failure pauses it again at once
        assert endpoint.failures == 3

        receiver.default = Answer(200)
        admin_client.post(
            CHANGELIST, {"action": "resume", "_selected_action": [endpoint.pk]}
        )
        endpoint.refresh_from_db()
        assert (endpoint.is_paused, endpoint.failures) == (False, 0)
        relay_once()

    assert len(receiver.acknowledged) == 1


@pytest.mark.usefixtures("fast")
def test_attempts_are_read_only(admin_client: Any) -> None:
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook")
    attempt = WebhookAttempt.objects.create(
        endpoint=endpoint, event_id=1, status_code=500, error="HTTP 500"
    )
    base = "/admin/shop_manager/webhookattempt/"

    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 403
    assert (
        admin_client.post(f"{base}{attempt.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    page = admin_client.get(f"{base}{attempt.pk}/change/").content.decode()
    assert 'name="error"' not in page  # shown, not editable
