"""The relay against a real HTTP receiver: every event delivered, once, in
order, whatever the receiver does in between."""

from __future__ import annotations

from typing import Any

from shop_manager.models import Product, ProductEvent
from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from tests.helpers.webhooks import (
    Answer,
    Receiver,
    fast_settings,
    relay_once,
    relay_until,
    running_relay,
    verify,
    wait_until,
)


def changes(make_product: Any, count: int) -> list[int]:
    """``count`` logged changes; their event ids, in log order."""
    product = make_product(name="Tea")
    for quantity in range(count - 1):
        product.quantity = 100 + quantity  # In stock: no alert messages.
        product.save()
    return list(ProductEvent.objects.order_by("id").values_list("id", flat=True))[
        -count:
    ]


def test_every_event_reaches_a_healthy_endpoint_once_in_order(
    endpoint: WebhookEndpoint, receiver: Receiver, make_product: Any
) -> None:
    ids = changes(make_product, 5)

    relay_once()

    assert [int(r.msg_id) for r in receiver.received] == ids
    assert [r.json["type"] for r in receiver.received] == [
        "product.created",
        *["product.updated"] * 4,
    ]
    assert all(verify(endpoint.secret, r) for r in receiver.received)
    endpoint.refresh_from_db()
    assert endpoint.cursor == ids[-1]
    assert receiver.connections == 1  # keep-alive: one connection for all five
    assert WebhookAttempt.objects.filter(endpoint=endpoint, ok=True).count() == 5


def test_an_endpoint_starts_after_the_changes_made_before_it(
    receiver: Receiver, fast: None, transactional_db: Any, make_product: Any
) -> None:
    changes(make_product, 2)
    WebhookEndpoint.objects.create(url=receiver.url)
    later = make_product(name="Coffee")

    relay_once()

    assert [r.json["data"]["product"]["id"] for r in receiver.received] == [later.pk]


def test_answering_500_then_recovering_loses_nothing(
    endpoint: WebhookEndpoint, receiver: Receiver, make_product: Any
) -> None:
    receiver.plan = [Answer(500), Answer(503), Answer(500)]
    ids = changes(make_product, 4)

    with running_relay():
        wait_until(lambda: receiver.acknowledged_ids() == ids, what="delivery")

    assert [int(r.msg_id) for r in receiver.received] == [ids[0]] * 4 + ids[1:]
    failed = WebhookAttempt.objects.filter(endpoint=endpoint, ok=False)
    assert sorted(failed.values_list("status_code", flat=True)) == [500, 500, 503]
    endpoint.refresh_from_db()
    assert endpoint.failures == 0
    assert endpoint.last_error.startswith("HTTP 500")


def test_a_receiver_down_gets_everything_after_it_comes_back(
    fast: None, transactional_db: Any, make_product: Any
) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    endpoint = WebhookEndpoint.objects.create(url=receiver.url)
    ids = changes(make_product, 3)

    # A backoff no stall between the two calls outlasts on a loaded machine
    # (0.5 s did), short enough for the wait below.
    with fast_settings(WEBHOOK_BACKOFF_SECONDS=5, WEBHOOK_BACKOFF_MAX_SECONDS=5):
        relay_once()
        relay_once()  # not due yet: the backoff holds it
    failed = WebhookAttempt.objects.get(endpoint=endpoint)
    assert not failed.ok
    assert "ConnectError" in failed.error
    endpoint.refresh_from_db()
    assert endpoint.failures == 1
    assert endpoint.cursor < ids[0]

    receiver.start()
    try:
        more = changes(make_product, 2)
        relay_until(lambda: receiver.acknowledged_ids() == ids + more)
    finally:
        receiver.stop()
    assert [int(r.msg_id) for r in receiver.received] == ids + more


def test_a_slow_receiver_times_out_and_is_retried(
    endpoint: WebhookEndpoint, receiver: Receiver, make_product: Any
) -> None:
    # It answers only once the relay has given up on it (past
    # WEBHOOK_TIMEOUT_SECONDS) and sent the event again: too late however
    # long the machine takes to get there. The timeout is still long enough
    # for every other answer on a loaded machine (0.5 s timed out each
    # retry too, at load 11, for a minute).
    receiver.plan = [Answer(200, until=lambda: len(receiver.received) > 1)]
    ids = changes(make_product, 3)

    with fast_settings(WEBHOOK_TIMEOUT_SECONDS=5), running_relay():
        wait_until(lambda: receiver.acknowledged_ids()[-3:] == ids, what="delivery")

    # The slow answer was a 200, but too late: the event went again, same id.
    assert [int(r.msg_id) for r in receiver.received] == [ids[0], *ids]
    timeout = WebhookAttempt.objects.get(endpoint=endpoint, ok=False)
    assert "timed out" in timeout.error


def test_a_connection_cut_mid_response_is_retried(
    endpoint: WebhookEndpoint, receiver: Receiver, make_product: Any
) -> None:
    receiver.plan = [Answer(200), Answer("close")]
    ids = changes(make_product, 3)

    with running_relay():
        wait_until(lambda: receiver.acknowledged_ids() == ids, what="delivery")

    assert [int(r.msg_id) for r in receiver.received] == [ids[0], ids[1], *ids[1:]]


def test_a_failing_endpoint_does_not_hold_up_another(
    receiver: Receiver, fast: None, transactional_db: Any, make_product: Any
) -> None:
    down = Receiver()
    WebhookEndpoint.objects.create(url=down.url)
    WebhookEndpoint.objects.create(url=receiver.url)
    ids = changes(make_product, 20)

    with running_relay():
        wait_until(lambda: receiver.acknowledged_ids() == ids, what="delivery")


def test_an_endpoint_gets_only_the_actions_it_asked_for(
    receiver: Receiver, fast: None, transactional_db: Any, make_product: Any
) -> None:
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, actions=["deleted"])
    product = make_product()
    product.quantity = 3
    product.save()
    product.delete()

    relay_once()

    assert [r.json["type"] for r in receiver.received] == ["product.deleted"]
    endpoint.refresh_from_db()
    assert endpoint.cursor == ProductEvent.objects.latest("id").pk
    assert not Product.objects.exists()


def test_a_relay_that_cannot_build_its_client_says_so_and_keeps_nothing(
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    make_product: Any,
    monkeypatch: Any,
    caplog: Any,
) -> None:
    ids = changes(make_product, 2)

    def broken(**options: Any) -> None:
        raise RuntimeError("no async backend installed")

    with monkeypatch.context() as patched:
        patched.setattr("shop_manager.webhooks.relay.EndpointClient", broken)
        relay_once()

    assert "relay worker failed" in caplog.text
    assert receiver.received == []
    relay_once()  # The endpoint was given back: the next relay delivers.
    assert [int(r.msg_id) for r in receiver.received] == ids
