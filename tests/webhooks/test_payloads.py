"""The webhook body: the live protocol's event frame, costs only on opt-in."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonschema
from django.contrib.staticfiles import finders

from shop_manager.models import ProductEvent
from shop_manager.webhooks.payloads import message_body, message_id


def protocol_schema() -> dict[str, Any]:
    path = finders.find("shop_manager/schema/live-protocol.json")
    assert path
    with open(path, encoding="utf-8") as schema:
        loaded: dict[str, Any] = json.load(schema)
    return loaded


def test_the_body_carries_the_event_as_the_live_protocol_describes_it(
    make_product: Any,
) -> None:
    product = make_product(name="Tea")
    product.price = Decimal("4.00")
    product.save()
    event = ProductEvent.objects.latest("id")

    body = json.loads(message_body(event, with_costs=False))

    assert body["type"] == "product.updated"
    assert body["timestamp"] == event.created.isoformat()
    assert body["data"]["id"] == event.pk == int(message_id(event))
    assert body["data"]["changes"]["price"]["new"] == "4.00"
    jsonschema.validate(body["data"], protocol_schema())


def test_cost_fields_only_for_an_endpoint_that_opts_in(make_product: Any) -> None:
    product = make_product(name="Tea", supplier_number="SUP-1")
    product.cost_price = Decimal("1.25")
    product.save()
    event = ProductEvent.objects.latest("id")

    hidden = message_body(event, with_costs=False)
    shown = json.loads(message_body(event, with_costs=True))

    assert b"1.25" not in hidden
    assert b"cost_price" not in hidden
    assert shown["data"]["changes"]["cost_price"]["new"] == "1.25"
    created = ProductEvent.objects.filter(action="created").latest("id")
    assert b"SUP-1" not in message_body(created, with_costs=False)
    assert b"SUP-1" in message_body(created, with_costs=True)
