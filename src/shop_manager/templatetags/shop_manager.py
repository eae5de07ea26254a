"""Template filters that ask the permission policy, for navigation and buttons."""

from __future__ import annotations

from typing import Any

from django import template

from shop_manager.permissions import ACTIONS, get_policy

register = template.Library()


@register.filter
def can_manage(user: Any, action: str) -> bool:
    """``{% if user|can_manage:"add" %}``; an unknown action is never allowed."""
    return action in ACTIONS and get_policy().can_manage(user, action)  # type: ignore[arg-type]


@register.filter
def can_watch(user: Any) -> bool:
    return get_policy().can_watch(user)


@register.filter
def can_see_costs(user: Any) -> bool:
    """``{% if user|can_see_costs %}``: cost price and supplier number."""
    return get_policy().can_see_costs(user)
