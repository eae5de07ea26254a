"""Whole relay processes on PostgreSQL: killed with SIGKILL mid-burst and
restarted, stopped with SIGTERM, two at once. (On SQLite these skip: one
relay at a time is what SQLite supports.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shop_manager.models import ProductEvent
from shop_manager.webhooks.models import WebhookEndpoint
from tests.helpers.waiting import HANG_BOUND
from tests.helpers.webhooks import (
    FAST,
    Answer,
    Receiver,
    RelayProcess,
    receiving,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# A short lease, so the restarted relay takes the killed one's endpoints soon.
CONFIG = {**FAST, "WEBHOOK_TIMEOUT_SECONDS": 0.5, "WEBHOOK_LEASE_SECONDS": 1.5}
# A long one where nothing may go twice: on a busy machine a relay stalled
# past a 1.5 s lease would rightly lose it, and its successor resend; nor
# may a starved relay time out a receiver that answers at once. (A relay
# stopped with SIGTERM hands its endpoints over: nothing waits on the lease.)
STEADY = {
    **CONFIG,
    "WEBHOOK_TIMEOUT_SECONDS": HANG_BOUND / 4,
    "WEBHOOK_LEASE_SECONDS": HANG_BOUND,
}


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    with receiving() as a, receiving() as b, receiving() as c:
        for receiver in (a, b, c):
            receiver.default = Answer(200, delay=0.002)
        yield [a, b, c]


@pytest.fixture
def relays() -> Iterator[list[RelayProcess]]:
    started: list[RelayProcess] = []
    yield started
    for relay in started:
        relay.kill()


def relay(relays: list[RelayProcess], config: dict[str, Any] = CONFIG) -> RelayProcess:
    process = RelayProcess(config).start()
    relays.append(process)
    return process


def event_ids() -> list[int]:
    return list(ProductEvent.objects.order_by("id").values_list("id", flat=True))


def assert_complete_and_ordered(receiver: Receiver, ids: list[int]) -> None:
    """Every event acknowledged; first deliveries in log order; a repeat is
    the same message (same webhook-id, same body)."""
    first: dict[str, bytes] = {}
    for received in receiver.received:
        if received.msg_id in first:
            assert received.body == first[received.msg_id]
        else:
            first[received.msg_id] = received.body
    assert [int(msg_id) for msg_id in first] == ids
    assert set(receiver.acknowledged_ids()) == set(ids)
    assert receiver.max_in_flight == 1


def test_a_relay_killed_mid_burst_loses_nothing_after_a_restart(
    receivers: list[Receiver], relays: list[RelayProcess], make_product: Any
) -> None:
    for receiver in receivers:
        WebhookEndpoint.objects.create(url=receiver.url)
    first = relay(relays)
    product = make_product()
    wait_until(lambda: all(r.acknowledged for r in receivers), what="the relay")

    killed_at = 0
    for quantity in range(300):
        product.quantity = 100 + quantity  # In stock: no alert messages.
        product.save()
        if not killed_at and len(receivers[0].acknowledged) >= 60:
            first.kill()
            killed_at = len(receivers[0].received)
    assert killed_at, "the burst ended before the relay was killed"
    relay(relays)

    ids = event_ids()
    wait_until(
        lambda: all(set(r.acknowledged_ids()) == set(ids) for r in receivers),
        what="every event at every endpoint",
    )
    for receiver in receivers:
        assert_complete_and_ordered(receiver, ids)
    # Only what was sent since the killed relay last saved went twice.
    assert len(receivers[0].received) - len(ids) < 100


def test_two_relays_never_deliver_to_one_endpoint_at_once(
    receivers: list[Receiver], relays: list[RelayProcess], make_product: Any
) -> None:
    """Two relays side by side; one is stopped with SIGTERM mid-burst, which
    finishes its deliveries in flight and hands its endpoints over: nothing
    is sent twice, and no endpoint ever has two requests in flight."""
    for receiver in receivers:
        WebhookEndpoint.objects.create(url=receiver.url)
    first = relay(relays, STEADY)
    product = make_product()
    # The first relay now holds every endpoint; the second keeps trying to
    # claim them, and must take them over when the first stops.
    wait_until(lambda: all(r.acknowledged for r in receivers), what="the relay")
    second = relay(relays, STEADY)

    for quantity in range(200):
        product.quantity = 100 + quantity  # In stock: no alert messages.
        product.save()
        if quantity == 100:
            assert first.terminate() == 0

    ids = event_ids()
    wait_until(
        lambda: all(set(r.acknowledged_ids()) == set(ids) for r in receivers),
        what="every event at every endpoint",
    )
    for receiver in receivers:
        assert_complete_and_ordered(receiver, ids)
        assert receiver.acknowledged_ids() == ids  # and each once
    assert second.terminate() == 0
