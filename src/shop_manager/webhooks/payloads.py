"""The body of a webhook: ``{"type", "timestamp", "data"}``, where ``data`` is
the event exactly as the live protocol's ``event`` frame carries it, so a
receiver can validate it with static/shop_manager/schema/live-protocol.json.
Worded in the site's language (``settings.LANGUAGE_CODE``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from shop_manager.changelog.rendering import event_payload, site_language

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

__all__ = ["event_type", "message_body", "message_id"]


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
    body = {
        "type": event_type(event),
        "timestamp": event.created.isoformat(),
        "data": data,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
