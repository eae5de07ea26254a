"""The messages one event makes and their bodies: ``{"type", "timestamp",
"data"}``.

Every event makes one ``product.<action>`` message, whose ``data`` is the
event exactly as the live protocol's ``event`` frame carries it, so a
receiver can validate it with static/shop_manager/schema/live-protocol.json;
then one ``product.<alert>`` message per stock alert the change raised
(``product.low_stock``, ``product.out_of_stock``, ``product.expiring``,
``product.expired``), whose ``data`` is the alert
(:func:`~shop_manager.changelog.rendering.alert_payload`). Worded in the
site's language (``settings.LANGUAGE_CODE``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shop_manager.changelog.rendering import (
    alert_payload,
    event_payload,
    site_language,
)
from shop_manager.webhooks.models import ALERTS

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

__all__ = [
    "Message",
    "alert_body",
    "event_type",
    "message_body",
    "message_id",
    "messages",
]


@dataclass(frozen=True)
class Message:
    """One webhook message an event makes."""

    event: ProductEvent
    # What an endpoint's ``actions`` filter on: "updated", "low_stock", ...
    kind: str
    # The stock condition an alert message is about; None for the event's own.
    condition: str | None = None

    @property
    def type(self) -> str:
        return f"product.{self.kind}"

    @property
    def id(self) -> str:
        """The ``webhook-id``, the same on every retry: the event's id, and
        for an alert the id and its kind ("42.low_stock")."""
        event_part = message_id(self.event)
        return event_part if self.condition is None else f"{event_part}.{self.kind}"

    def body(self, *, with_costs: bool) -> bytes:
        if self.condition is None:
            return message_body(self.event, with_costs=with_costs)
        return alert_body(self.event, self.condition)


def messages(event: ProductEvent) -> list[Message]:
    """The event's own message, then one per alert it raised, in the
    alerts' order (most urgent first)."""
    raised = [
        Message(event, ALERTS[condition], condition)
        for condition in (event.alerts or {}).get("entered", ())
        if condition in ALERTS
    ]
    return [Message(event, event.action), *raised]


def event_type(event: ProductEvent) -> str:
    """``product.created``, ``product.updated`` or ``product.deleted``."""
    return f"product.{event.action}"


def message_id(event: ProductEvent) -> str:
    """The ``webhook-id``: the event's id, the same on every retry, so
    receivers de-duplicate on it."""
    return str(event.pk)


def message_body(event: ProductEvent, *, with_costs: bool) -> bytes:
    """The JSON body; cost-field changes only ``with_costs`` (the endpoint's
    opt-in), as ``can_see_costs`` rules them on the pages."""
    with site_language():
        # The schema's "event" shape: the payload every page and frame words.
        data = {"type": "event", **event_payload(event, with_costs=with_costs)}
    return _encode(event_type(event), event, data)


def alert_body(event: ProductEvent, condition: str) -> bytes:
    """The JSON body of the alert ``event`` raised for ``condition``: the
    product, the condition and a sentence; no cost field, whatever the
    endpoint's opt-in."""
    with site_language():
        data = {"type": "alert", **alert_payload(event, condition)}
    return _encode(f"product.{ALERTS[condition]}", event, data)


def _encode(message_type: str, event: ProductEvent, data: dict[str, Any]) -> bytes:
    body = {
        "type": message_type,
        "timestamp": event.created.isoformat(),
        "data": data,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
