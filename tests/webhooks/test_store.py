"""Leases: one relay per endpoint at a time, taken over once expired."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from shop_manager.conf import get_config
from shop_manager.webhooks import store
from shop_manager.webhooks.models import WebhookEndpoint


def test_a_held_endpoint_is_not_claimed_until_its_lease_expires(
    endpoint: WebhookEndpoint,
) -> None:
    (mine,) = store.claim("relay-a", 30, set())
    assert store.claim("relay-b", 30, set()) == []

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    (taken,) = store.claim("relay-b", 30, set())

    assert taken.pk == mine.pk == endpoint.pk
    # relay-a wakes up: its save is refused, so it stops sending.
    progress = store.Progress(cursor=mine.cursor + 5)
    assert store.save_progress(mine, "relay-a", progress, get_config()) is None
    endpoint.refresh_from_db()
    assert endpoint.cursor == mine.cursor
    assert endpoint.lease_owner == "relay-b"


def test_an_endpoint_deactivated_while_served_is_handed_back(
    endpoint: WebhookEndpoint,
) -> None:
    (state,) = store.claim("relay-a", 30, set())
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)

    progress = store.Progress(cursor=state.cursor + 1)
    assert store.save_progress(state, "relay-a", progress, get_config()) is None

    endpoint.refresh_from_db()
    assert endpoint.cursor == state.cursor + 1  # what was sent is kept
    assert endpoint.lease_owner == ""
    assert store.claim("relay-a", 30, set()) == []


def test_an_endpoint_in_backoff_is_not_claimed(
    endpoint: WebhookEndpoint, make_product: Any
) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        next_attempt_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    assert store.claim("relay-a", 30, set()) == []
