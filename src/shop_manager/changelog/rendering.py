"""The one rendering of a change-log event for people and pages: the dashboard,
the product page's history, the admin and the logging notifier all word and
date an event through here."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import ForeignObjectRel
from django.utils import dateformat, timezone

from shop_manager.links import product_detail_url
from shop_manager.models import COST_FIELDS, Product, ProductEvent

__all__ = [
    "EVENT_TIME_FORMAT",
    "describe",
    "event_payload",
    "field_label",
    "has_cost_changes",
    "headline",
    "show_value",
    "time_display",
    "visible_changes",
]

# How every server-rendered page shows an event's time (Django ``date`` format),
# in the site's time zone: the history, the dashboard without script, the admin.
EVENT_TIME_FORMAT = "Y-m-d H:i"


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


def field_label(field: str) -> str:
    """A field's name for people: its verbose name, translated ("cost price").

    A field the model no longer has (in an old log row) shows its own name.
    """
    try:
        model_field = Product._meta.get_field(field)
    except FieldDoesNotExist:
        return field.replace("_", " ")
    if isinstance(model_field, ForeignObjectRel):
        # Another model's foreign key to products: never a logged field.
        return field.replace("_", " ")
    return str(model_field.verbose_name)


def show_value(value: Any) -> str:
    """A logged value for people: empty ones as a dash, so "—" → "3.50" reads."""
    return "—" if value in (None, "") else str(value)


def time_display(moment: datetime.datetime) -> str:
    """``moment`` in the site's time zone and ``EVENT_TIME_FORMAT``."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return dateformat.format(moment, EVENT_TIME_FORMAT)


def describe(event: ProductEvent, *, with_costs: bool = True) -> str:
    """A sentence for people: "Product 'Tea' was updated: quantity 4 → 9"."""
    sentence = headline(event)
    changes = visible_changes(event, with_costs=with_costs)
    if event.action == ProductEvent.Action.UPDATED and changes:
        parts = [
            f"{field_label(field)} {show_value(old)} → {show_value(new)}"
            for field, (old, new) in changes.items()
        ]
        sentence += ": " + ", ".join(parts)
    return sentence


def product_url(event: ProductEvent) -> str | None:
    if event.action == ProductEvent.Action.DELETED:
        return None
    return product_detail_url(event.product_slug)


def event_payload(event: ProductEvent, *, with_costs: bool = True) -> dict[str, Any]:
    """An event as data (the dashboard's ``event`` frame is this plus its
    ``type``); ``with_costs=False`` leaves out cost-field diffs (an update of
    costs alone then reads "was updated", with no values).

    Each change carries its field's ``label`` and the event its
    ``time_display``, so every page words and dates an event the same way.
    """
    changes = visible_changes(event, with_costs=with_costs)
    return {
        "id": event.pk,
        "action": event.action,
        "time": event.created.isoformat(),
        "time_display": time_display(event.created),
        "actor": event.actor_name or None,
        "product": {
            "id": event.product_pk,
            "name": event.product_name,
            "slug": event.product_slug,
            "url": product_url(event),
        },
        "changes": {
            field: {"old": old, "new": new, "label": field_label(field)}
            for field, (old, new) in changes.items()
        },
        "headline": headline(event),
        "message": describe(event, with_costs=with_costs),
    }
