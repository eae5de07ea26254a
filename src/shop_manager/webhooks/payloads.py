"""The body of a webhook: ``{"type", "timestamp", "data"}``, where ``data`` is
the event exactly as the live protocol's ``event`` frame carries it, so a
receiver can validate it with static/shop_manager/schema/live-protocol.json."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shop_manager.live.protocol import dumps, event_frame

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
    return dumps(
        {
            "type": event_type(event),
            "timestamp": event.created.isoformat(),
            "data": event_frame(event, with_costs=with_costs),
        }
    ).encode()
