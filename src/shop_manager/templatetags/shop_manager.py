"""Template filters: the permission policy's answers, for navigation and
buttons; and the words for a logged event."""

from __future__ import annotations

from typing import Any

from django import template

from shop_manager.changelog.rendering import show_value
from shop_manager.live.strings import event_headline
from shop_manager.models import ProductEvent
from shop_manager.permissions import ACTIONS, get_policy

register = template.Library()


@register.filter
def can_manage(user: Any, action: str) -> bool:
    """``{% if user|can_manage:"add" %}``; an unknown action is never allowed."""
    return action in ACTIONS and get_policy().can_manage(user, action)


@register.filter
def can_watch(user: Any) -> bool:
    return get_policy().can_watch(user)


@register.filter
def can_see_costs(user: Any) -> bool:
    """``{% if user|can_see_costs %}``: cost price and supplier number."""
    return get_policy().can_see_costs(user)


@register.filter
def can_export(user: Any) -> bool:
    """``{% if user|can_export %}``: the catalogue as CSV."""
    return get_policy().can_export(user)


@register.filter
def action_label(action: str) -> str:
    """An event's action ("updated") in the page's language."""
    try:
        return str(ProductEvent.Action(action).label)
    except ValueError:  # An action a newer version logged: shown as it is.
        return action


@register.filter
def change_value(value: Any) -> str:
    """A value from an event's diff, an empty one as "—" (zero stays "0")."""
    return show_value(value)


@register.filter
def headline(event: dict[str, Any]) -> str:
    """What an event payload says happened, in the page's language (the
    payload's own ``headline`` is built once, in the server's)."""
    return event_headline(event["action"], event["product"]["name"])
