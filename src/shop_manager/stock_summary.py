"""What the dashboard's tiles count and its alerts panel lists: products out of
stock, low on stock, expired or expiring soon, by the same rules as the
list's badges and filters (``Product.objects.with_stock_flags()``).

Two queries whatever the catalogue's size: one statement of counts, each
read from an index, and one bounded page of the products that need
attention. Their SQL is compiled once a day (``stock_statements``); their
rows are read on every call.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from shop_manager.models import STOCK_CONDITIONS, Product
from shop_manager.stock_statements import (
    COUNT_KEYS,
    attention_statement,
    counts_statement,
)

__all__ = [
    "ATTENTION_LIMIT",
    "Alert",
    "Attention",
    "changes_today",
    "needs_attention",
    "open_alerts",
    "stock_counts",
    "today_ends",
]

# Products the alerts panel lists at most; the tiles count them all.
ATTENTION_LIMIT = 8
# The conditions, most urgent first: the panel's order and each alert's tone.
CONDITIONS = STOCK_CONDITIONS
DANGER = frozenset({"out_of_stock", "expired"})


@dataclass(frozen=True)
class Attention:
    """A product that needs someone: what is wrong with it, most urgent first."""

    product: Product
    conditions: tuple[str, ...]
    # The conditions whose alert someone dismissed (shop_manager.models.alerts).
    dismissed: frozenset[str] = frozenset()

    @property
    def level(self) -> str:
        return "danger" if DANGER & set(self.conditions) else "warn"


@dataclass(frozen=True)
class Alert:
    """One stock alert the dashboard raises: a product and one condition."""

    product: Product
    condition: str

    @property
    def level(self) -> str:
        return "danger" if self.condition in DANGER else "warn"


def open_alerts(attention: list[Attention]) -> list[Alert]:
    """The alerts of ``attention``'s products, one per condition in its
    order, but those someone dismissed (read with them: no query)."""
    return [
        Alert(item.product, condition)
        for item in attention
        for condition in item.conditions
        if condition not in item.dismissed
    ]


def stock_counts() -> dict[str, int]:
    """``products``, ``out_of_stock``, ``low_stock`` (low but not out),
    ``expired``, ``expiring_soon`` and ``attention`` (products with any of
    those), in one query."""
    alias = router.db_for_read(Product)
    sql, params = counts_statement(alias, timezone.localdate())
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return {key: int(value or 0) for key, value in zip(COUNT_KEYS, row, strict=True)}


def needs_attention(limit: int = ATTENTION_LIMIT) -> list[Attention]:
    """Up to ``limit`` products that are out of stock, expired, low on stock
    or expiring soon, the most urgent first, then by expiry date and name."""
    alias = router.db_for_read(Product)
    today = timezone.localdate()
    sql, params = attention_statement(alias, today, limit)
    products = Product.objects.db_manager(alias).raw(sql, params)
    # Which conditions, by the model's rules (the SQL above only picks them).
    return [
        Attention(
            product,
            product.stock_conditions(today),
            frozenset(c for c in CONDITIONS if getattr(product, f"dismissed_{c}")),
        )
        for product in products
    ]


def _start_of_today() -> datetime.datetime:
    now = timezone.now()
    if timezone.is_aware(now):
        now = timezone.localtime(now)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def today_ends() -> datetime.datetime:
    """The next midnight in the site's time zone: where the live "changes
    today" tile starts counting again."""
    tomorrow = _start_of_today().date() + datetime.timedelta(days=1)
    midnight = datetime.datetime.combine(tomorrow, datetime.time())
    return timezone.make_aware(midnight) if settings.USE_TZ else midnight


def changes_today(events: list[dict[str, Any]], *, complete: bool) -> tuple[int, bool]:
    """How many of ``events`` (payloads, any order) happened today in the
    site's time zone, and whether there may be more: True when every event
    the page holds is from today and older ones exist (``complete`` False),
    since counting further would mean reading the whole day's log."""
    start = _start_of_today()
    today = sum(
        1 for event in events if datetime.datetime.fromisoformat(event["time"]) >= start
    )
    return today, bool(today) and today == len(events) and not complete
