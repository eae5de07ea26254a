"""Backoff, pausing and pruning."""

from __future__ import annotations

import datetime
import random
from typing import Any

import pytest
from django.utils import timezone

from shop_manager.conf import DEFAULTS
from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from shop_manager.webhooks.retries import backoff_seconds, should_pause
from tests.helpers.webhooks import (
    Answer,
    Receiver,
    fast_settings,
    relay_once,
    relay_until,
)


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    rng = random.Random(1)
    delays = [backoff_seconds(n, DEFAULTS, rng=rng) for n in range(1, 12)]

    for failures, delay in enumerate(delays, start=1):
        full = min(3600, 5 * 2 ** (failures - 1))
        assert full / 2 <= delay <= full
    assert len({round(d, 3) for d in delays}) == len(delays)  # jittered
    assert backoff_seconds(10_000, DEFAULTS) <= 3600


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    assert backoff_seconds(1, DEFAULTS, retry_after=120) == 120
    assert backoff_seconds(1, DEFAULTS, retry_after=10**9) == 3600


def test_pause_after_failures_or_age() -> None:
    now = timezone.now()
    assert not should_pause(14, now, now, DEFAULTS)
    assert should_pause(15, now, now, DEFAULTS)
    assert should_pause(2, now - datetime.timedelta(days=3), now, DEFAULTS)


def test_a_4xx_counts_as_a_failure_and_pauses_after_the_limit(
    receiver: Receiver, transactional_db: Any, make_product: Any
) -> None:
    receiver.default = Answer(410, body=b"gone")
    with fast_settings(WEBHOOK_PAUSE_AFTER_FAILURES=3):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        relay_until(
            lambda: WebhookEndpoint.objects.filter(paused_at__isnull=False).exists()
        )
        relay_once()

    endpoint.refresh_from_db()
    assert endpoint.failures == 3
    assert endpoint.last_error == "HTTP 410: gone"
    assert len(receiver.received) == 3  # nothing more once paused
    assert receiver.acknowledged == []


def test_a_429s_retry_after_delays_the_next_attempt(
    receiver: Receiver, transactional_db: Any, make_product: Any
) -> None:
    receiver.plan = [Answer(429, headers={"retry-after": "30"})]
    with fast_settings(WEBHOOK_BACKOFF_MAX_SECONDS=60):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url)
        make_product()
        before = timezone.now()
        relay_once()

    endpoint.refresh_from_db()
    assert endpoint.next_attempt_at is not None
    assert endpoint.next_attempt_at >= before + datetime.timedelta(seconds=29)


@pytest.mark.usefixtures("fast")
def test_old_attempts_are_pruned(transactional_db: Any) -> None:
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook")
    old = timezone.now() - datetime.timedelta(days=31)
    WebhookAttempt.objects.create(endpoint=endpoint, event_id=1, created=old)
    recent = WebhookAttempt.objects.create(endpoint=endpoint, event_id=2)
    endpoint.active = False
    endpoint.save()

    relay_once()

    assert list(WebhookAttempt.objects.all()) == [recent]
