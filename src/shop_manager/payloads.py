"""What a dashboard receives for a change: built and serialised once per event,
twice when the change touched a cost field (the second copy without it, for
watchers who may not see costs)."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse

from shop_manager.models import COST_FIELDS, ProductEvent

__all__ = [
    "describe",
    "event_json",
    "event_payload",
    "has_cost_changes",
    "headline",
    "json_safe",
    "visible_changes",
]


def json_safe(value: Any) -> Any:
    """Decimals and dates become strings, so a diff survives a JSON round trip
    exactly as the user typed it ("3.50", not 3.5)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    return value


def headline(event: ProductEvent) -> str:
    """What happened, without the diff: "Product 'Tea' was updated"."""
    return f"Product '{event.product_name}' was {event.action}"


def has_cost_changes(event: ProductEvent) -> bool:
    return any(field in event.changes for field in COST_FIELDS)


def visible_changes(event: ProductEvent, *, with_costs: bool) -> dict[str, list[Any]]:
    """The event's diff, without the cost fields unless ``with_costs``."""
    if with_costs:
        return dict(event.changes)
    return {
        field: change
        for field, change in event.changes.items()
        if field not in COST_FIELDS
    }


def describe(event: ProductEvent, *, with_costs: bool = True) -> str:
    """A sentence for people: "Product 'Tea' was updated: quantity 4 → 9"."""
    sentence = headline(event)
    changes = visible_changes(event, with_costs=with_costs)
    if event.action == ProductEvent.Action.UPDATED and changes:
        parts = [
            f"{field.replace('_', ' ')} {_show(old)} → {_show(new)}"
            for field, (old, new) in changes.items()
        ]
        sentence += ": " + ", ".join(parts)
    return sentence


def _show(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def product_url(event: ProductEvent) -> str | None:
    if event.action == ProductEvent.Action.DELETED:
        return None
    try:
        return reverse(
            "shop_manager:product-detail", kwargs={"slug": event.product_slug}
        )
    except NoReverseMatch:  # The host did not mount the product pages.
        return None


def event_payload(event: ProductEvent, *, with_costs: bool = True) -> dict[str, Any]:
    """The ``event`` frame; ``with_costs=False`` leaves out cost-field diffs
    (an update of costs alone then reads "was updated", with no values)."""
    changes = visible_changes(event, with_costs=with_costs)
    return {
        "type": "event",
        "id": event.pk,
        "action": event.action,
        "time": event.created.isoformat(),
        "actor": event.actor_name or None,
        "product": {
            "id": event.product_pk,
            "name": event.product_name,
            "slug": event.product_slug,
            "url": product_url(event),
        },
        "changes": {
            field: {"old": old, "new": new} for field, (old, new) in changes.items()
        },
        "headline": headline(event),
        "message": describe(event, with_costs=with_costs),
    }


def event_json(event: ProductEvent, *, with_costs: bool = True) -> str:
    return json.dumps(
        event_payload(event, with_costs=with_costs),
        ensure_ascii=False,
        separators=(",", ":"),
    )
