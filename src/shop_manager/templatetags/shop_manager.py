"""Template filters: the permission policy's answers, for navigation and
buttons; the words for a logged event; and how the pages write prices, dates
and people (one way everywhere)."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from typing import Any

from django import template
from django.utils.formats import number_format

from shop_manager.changelog import rendering
from shop_manager.changelog.rendering import field_label, show_value, time_display
from shop_manager.fragments import MemoNode
from shop_manager.money import MONEY_FIELDS, format_price
from shop_manager.permissions import ACTIONS, get_policy

register = template.Library()

# The letters of a name's words, for initials ("Bea Brunner" → "BB").
_WORDS = re.compile(r"[^\W\d_]+")


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
    return rendering.action_label(action)


@register.filter
def change_value(value: Any) -> str:
    """A value from an event's diff, an empty one as "—" (zero stays "0")."""
    return rendering.show_value(value)


@register.filter
def headline(event: dict[str, Any]) -> str:
    """What an event payload says happened, in the page's language (the
    payload's own ``headline`` may be in the site's)."""
    return rendering.headline(event["action"], event["product"]["name"])


@register.filter
def field_value(value: Any, field: str) -> str:
    """``{{ change.old|field_value:field }}``: a value from an event's diff or
    a form, money with the site's currency, an empty one as "—"."""
    return format_price(value) if field in MONEY_FIELDS else show_value(value)


@register.filter
def field_name(field: str) -> str:
    """A product field's name for people ("low-stock threshold"); pair it
    with ``capfirst`` where it starts a line."""
    return field_label(field)


@register.filter
def price(value: Any) -> str:
    """``{{ product.price|price }}``: with the site's currency ("$6.90")."""
    return format_price(value)


@register.filter
def count(value: int) -> str:
    """A count the way the reader's language groups digits ("1,234")."""
    return number_format(value, use_l10n=True, force_grouping=True)


@register.filter
def sm_date(value: datetime.date | None) -> str:
    """A date as every page writes it ("2026-12-03"); none as "—"."""
    return rendering.date_display(value)


@register.filter
def sm_datetime(value: datetime.datetime | None) -> str:
    """A moment as every page and the change log write it ("2026-12-03
    14:05", in the site's time zone); none as "—"."""
    return time_display(value) if value else "—"


@register.filter
def initials(name: str) -> str:
    """Up to two initials for an avatar: "Bea Brunner" → "BB", "staff" → "S"."""
    return _initials(str(name or ""))


# A feed shows the same few people on every row and every page.
@lru_cache(maxsize=1024)
def _initials(name: str) -> str:
    words: list[str] = _WORDS.findall(name)
    if not words:
        return (name.strip()[:1] or "?").upper()
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


@register.tag
def sm_memo(parser: template.base.Parser, token: template.base.Token) -> MemoNode:
    """``{% sm_memo event link %}…{% endsm_memo %}``: a block rendered once
    for the values it names (everything it reads), in each language
    (shop_manager.fragments)."""
    values = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endsm_memo",))
    parser.delete_first_token()
    return MemoNode(nodelist, values)
