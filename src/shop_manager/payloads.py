"""What a dashboard receives for a change: built and serialised once per event."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse

from shop_manager.models import ProductEvent

__all__ = ["describe", "event_json", "event_payload", "headline", "json_safe"]


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


def describe(event: ProductEvent) -> str:
    """A sentence for people: "Product 'Tea' was updated: quantity 4 → 9"."""
    sentence = headline(event)
    if event.action == ProductEvent.Action.UPDATED and event.changes:
        parts = [
            f"{field.replace('_', ' ')} {_show(old)} → {_show(new)}"
            for field, (old, new) in event.changes.items()
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


def event_payload(event: ProductEvent) -> dict[str, Any]:
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
            field: {"old": old, "new": new}
            for field, (old, new) in event.changes.items()
        },
        "headline": headline(event),
        "message": describe(event),
    }


def event_json(event: ProductEvent) -> str:
    return json.dumps(event_payload(event), ensure_ascii=False, separators=(",", ":"))
