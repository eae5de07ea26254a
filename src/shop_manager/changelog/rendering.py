"""The one rendering of a change-log event for people: every page, the
dashboard's script, the admin, the logging notifier, the socket's frames and
the webhook bodies word and date an event through here.

Words are translated lazily, in the language active when they are rendered:

- a page renders in its reader's language (the request's);
- whatever is sent to many readers or stored (a frame, a webhook body, a log
  line) is rendered in the site's, ``settings.LANGUAGE_CODE``
  (:func:`site_language`), never in the language of whoever saved the change;
  it also carries codes (``action``, the field names) that a page words for
  its own reader, as the dashboard's script does (:func:`headline_templates`,
  :func:`field_labels`).

One date format (:data:`EVENT_TIME_FORMAT`, in the site's time zone) and one
quote style (“…”, as every other message about a product) everywhere.
"""

from __future__ import annotations

import datetime
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import setting_changed
from django.db.models import ForeignObjectRel
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from shop_manager.links import product_detail_url
from shop_manager.models import COST_FIELDS, EDITABLE_FIELDS, Product, ProductEvent

__all__ = [
    "DATE_FORMAT",
    "EVENT_TIME_FORMAT",
    "action_label",
    "alert_details",
    "alert_payload",
    "alert_sentence",
    "date_display",
    "describe",
    "event_payload",
    "field_label",
    "field_labels",
    "has_cost_changes",
    "headline",
    "headline_templates",
    "show_value",
    "site_language",
    "time_display",
    "visible_changes",
]

# Django reloads its translations only when one of these changes; until then
# a label is looked up once per language, not once per row of every page.
TRANSLATION_SETTINGS = frozenset(
    {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}
)

# How every server-rendered page shows an event's time (Django ``date`` format),
# in the site's time zone: the history, the dashboard, the admin, the frames'
# ``time_display``.
EVENT_TIME_FORMAT = "Y-m-d H:i"
# How every page shows a date (an expiry date, an alert's).
DATE_FORMAT = "Y-m-d"

# Lazy: each headline is looked up when rendered, in the language active then.
_HEADLINES: dict[str, Any] = {
    ProductEvent.Action.CREATED: gettext_lazy("Product “%(name)s” was created"),
    ProductEvent.Action.UPDATED: gettext_lazy("Product “%(name)s” was updated"),
    ProductEvent.Action.DELETED: gettext_lazy("Product “%(name)s” was deleted"),
}


# A stock alert, as the dashboard's panel words it beside the product's name
# (the same msgids as its template's blocktranslate).
_ALERT_DETAILS: dict[str, Any] = {
    "out_of_stock": gettext_lazy("Out of stock"),
    "expired": gettext_lazy("Expired on %(date)s"),
    "low_stock": gettext_lazy("Low stock: %(quantity)s left"),
    "expiring_soon": gettext_lazy("Expires on %(date)s"),
}
# ...and as one sentence, for a reader who sees nothing else (a webhook).
_ALERT_SENTENCES: dict[str, Any] = {
    "out_of_stock": gettext_lazy("Product “%(name)s” is out of stock"),
    "expired": gettext_lazy("Product “%(name)s” expired on %(date)s"),
    "low_stock": gettext_lazy("Product “%(name)s” is low on stock: %(quantity)s left"),
    "expiring_soon": gettext_lazy("Product “%(name)s” expires on %(date)s"),
}


def site_language() -> AbstractContextManager[None]:
    """Render inside this for many readers: in ``settings.LANGUAGE_CODE``."""
    return translation.override(settings.LANGUAGE_CODE)


def headline(action: str, name: str) -> str:
    """What happened, without the diff: "Product “Tea” was updated"."""
    template = _HEADLINES.get(action)
    # An action a newer version logged: said as it is.
    return str(template) % {"name": name} if template else f"“{name}”: {action}"


def headline_templates() -> dict[str, str]:
    """Each action's headline with its ``%(name)s`` placeholder, for a script
    that words events itself."""
    return {action: str(template) for action, template in _HEADLINES.items()}


def action_label(action: str) -> str:
    """An event's action for people ("updated")."""
    return _action_label(action, translation.get_language())


@lru_cache(maxsize=256)
def _action_label(action: str, language: str | None) -> str:
    try:
        return str(ProductEvent.Action(action).label)
    except ValueError:  # An action a newer version logged: shown as it is.
        return action


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
    return _field_label(field, translation.get_language())


@lru_cache(maxsize=1024)
def _field_label(field: str, language: str | None) -> str:
    try:
        model_field = Product._meta.get_field(field)
    except FieldDoesNotExist:
        return field.replace("_", " ")
    if isinstance(model_field, ForeignObjectRel):
        # Another model's foreign key to products: never a logged field.
        return field.replace("_", " ")
    return str(model_field.verbose_name)


def field_labels() -> dict[str, str]:
    """Every logged field's label, for a script that words events itself."""
    return {field: field_label(field) for field in EDITABLE_FIELDS}


def show_value(value: Any) -> str:
    """A logged value for people: empty ones as a dash, so "—" → "3.50" reads."""
    return "—" if value in (None, "") else str(value)


def time_display(moment: datetime.datetime) -> str:
    """``moment`` in the site's time zone and ``EVENT_TIME_FORMAT``."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    # EVENT_TIME_FORMAT written directly: dateformat.format() parses the
    # format and looks the language up again for every event of a page.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}"
    )


def describe(event: ProductEvent, *, with_costs: bool = True) -> str:
    """A sentence for people: "Product “Tea” was updated: quantity 4 → 9"."""
    return _describe(
        event,
        headline(event.action, event.product_name),
        visible_changes(event, with_costs=with_costs),
    )


def _describe(event: ProductEvent, sentence: str, changes: dict[str, Any]) -> str:
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


def alert_details() -> dict[str, str]:
    """Each condition's words for the panel, with ``%(quantity)s`` and
    ``%(date)s`` placeholders, for a script that words alerts itself."""
    return {condition: str(words) for condition, words in _ALERT_DETAILS.items()}


def date_display(value: datetime.date | str | None) -> str:
    """A date as every page writes it ("2026-12-03"); none as "—"."""
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value)
    if not value:
        return "—"
    # DATE_FORMAT written directly, as time_display() does: the list writes
    # one per row.
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def alert_sentence(
    condition: str, name: str, quantity: int | None, expiry_date: str | None
) -> str:
    """The alert as one sentence: "Product “Tea” is low on stock: 3 left"."""
    template = _ALERT_SENTENCES.get(condition)
    if template is None:  # A condition a newer version logged.
        return f"“{name}”: {condition}"
    return str(template) % {
        "name": name,
        "quantity": show_value(quantity),
        "date": date_display(expiry_date),
    }


def _event_alerts(event: ProductEvent) -> dict[str, Any]:
    alerts = event.alerts or {}
    return {
        "entered": list(alerts.get("entered", ())),
        "cleared": list(alerts.get("cleared", ())),
        "conditions": list(alerts.get("conditions", ())),
        "quantity": alerts.get("quantity"),
        "expiry_date": alerts.get("expiry_date"),
        "expiry_display": date_display(alerts.get("expiry_date")),
    }


def alert_payload(event: ProductEvent, condition: str) -> dict[str, Any]:
    """One alert ``event`` raised, as data (a webhook's ``data``): the
    product, the condition and its words; never a cost field."""
    alerts = _event_alerts(event)
    return {
        "condition": condition,
        "event_id": event.pk,
        "time": event.created.isoformat(),
        "product": _product(event),
        "quantity": alerts["quantity"],
        "expiry_date": alerts["expiry_date"],
        "message": alert_sentence(
            condition, event.product_name, alerts["quantity"], alerts["expiry_date"]
        ),
    }


def _product(event: ProductEvent) -> dict[str, Any]:
    return {
        "id": event.product_pk,
        "name": event.product_name,
        "slug": event.product_slug,
        "url": product_url(event),
    }


def event_payload(event: ProductEvent, *, with_costs: bool = True) -> dict[str, Any]:
    """An event as data (the dashboard's ``event`` frame is this plus its
    ``type``); ``with_costs=False`` leaves out cost-field diffs (an update of
    costs alone then reads "was updated", with no values).

    Each change carries its field's ``label`` and the event its
    ``time_display``, worded in the active language (see the module's
    docstring for which one that must be). An event that raised or cleared
    stock alerts carries ``alerts`` (:mod:`shop_manager.changelog.alerts`).
    """
    changes = visible_changes(event, with_costs=with_costs)
    said = headline(event.action, event.product_name)
    payload: dict[str, Any] = {
        "id": event.pk,
        "action": event.action,
        "time": event.created.isoformat(),
        "time_display": time_display(event.created),
        "actor": event.actor_name or None,
        "product": _product(event),
        "changes": {
            field: {"old": old, "new": new, "label": field_label(field)}
            for field, (old, new) in changes.items()
        },
        "headline": said,
        "message": _describe(event, said, changes),
    }
    if event.alerts:
        payload["alerts"] = _event_alerts(event)
    return payload


@receiver(setting_changed)
def _forget_labels(*, setting: str, **kwargs: Any) -> None:
    if setting in TRANSLATION_SETTINGS:
        _action_label.cache_clear()
        _field_label.cache_clear()
