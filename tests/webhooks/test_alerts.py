"""Stock alerts as webhook messages: ``product.low_stock``,
``product.out_of_stock``, ``product.expiring`` (and ``product.expired``),
signed like every message, filtered per endpoint, never with a cost."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from shop_manager.models import ProductEvent
from shop_manager.webhooks.models import WebhookEndpoint
from shop_manager.webhooks.payloads import messages
from tests.helpers.webhooks import Receiver, relay_once, verify

# The default rules: low at 5 or fewer, expiring within 30 days.


def test_an_event_makes_its_own_message_then_one_per_alert_raised(
    make_product: Any,
) -> None:
    tea = make_product(name="Tea", quantity=9, cost_price=Decimal("1.20"))
    tea.quantity = 0
    tea.cost_price = Decimal("1.30")
    tea.expiry_date = timezone.localdate() + datetime.timedelta(days=2)
    tea.save()
    event = ProductEvent.objects.latest("id")

    made = messages(event)

    assert [(m.type, m.id) for m in made] == [
        ("product.updated", str(event.pk)),
        ("product.out_of_stock", f"{event.pk}.out_of_stock"),
        ("product.expiring", f"{event.pk}.expiring"),
    ]
    body = json.loads(made[1].body(with_costs=True))
    assert body["type"] == "product.out_of_stock"
    assert body["data"] == {
        "type": "alert",
        "condition": "out_of_stock",
        "event_id": event.pk,
        "time": event.created.isoformat(),
        "product": {
            "id": tea.pk,
            "name": "Tea",
            "slug": "tea",
            "url": "/products/tea/",
        },
        "quantity": 0,
        "expiry_date": tea.expiry_date.isoformat(),
        "message": "Product “Tea” is out of stock",
    }
    # Even for an endpoint that opted into costs: an alert has none.
    assert b"1.30" not in made[2].body(with_costs=True)
    assert b"cost" not in made[2].body(with_costs=True)


def test_a_cleared_alert_makes_no_message(make_product: Any) -> None:
    tea = make_product(quantity=0)
    tea.quantity = 40
    tea.save()
    assert [m.type for m in messages(ProductEvent.objects.latest("id"))] == [
        "product.updated"
    ]


def test_an_endpoint_may_subscribe_to_alerts_only(
    receiver: Receiver, endpoint: WebhookEndpoint, make_product: Any
) -> None:
    endpoint.actions = ["low_stock", "expiring"]
    endpoint.full_clean()
    endpoint.save()
    tea = make_product(name="Tea", quantity=9)
    tea.quantity = 3
    tea.save()
    tea.quantity = 0
    tea.save()

    relay_once()

    assert [r.json["type"] for r in receiver.received] == ["product.low_stock"]
    received = receiver.received[0]
    payload = verify(endpoint.secret, received)
    assert payload["data"]["message"] == "Product “Tea” is low on stock: 3 left"
    endpoint.refresh_from_db()
    assert endpoint.cursor == ProductEvent.objects.latest_id()


def test_an_endpoint_for_all_gets_the_event_and_its_alert_in_order(
    receiver: Receiver, endpoint: WebhookEndpoint, make_product: Any
) -> None:
    tea = make_product(name="Tea", quantity=9)
    created = ProductEvent.objects.latest("id")
    tea.quantity = 2
    tea.save()
    event = ProductEvent.objects.latest("id")

    relay_once()

    assert [r.msg_id for r in receiver.received] == [
        str(created.pk),
        str(event.pk),
        f"{event.pk}.low_stock",
    ]


def test_an_unknown_kind_is_refused() -> None:
    endpoint = WebhookEndpoint(url="https://example.com/hook", actions=["restocked"])
    with pytest.raises(ValidationError):
        endpoint.full_clean()
