"""The SQL of the dashboard's two stock statements (``stock_summary``), built
by the ORM once per database, day and configuration.

Building them (the stock flags, six filtered counts, four ``EXISTS``) cost
as much as running them, on every page load, though their text changes only
with the date and the two stock settings. The text and its parameters are
kept; the rows are read afresh every time, so nothing here holds a count
that a change, a ``QuerySet.update()`` or an import could make wrong.
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Star

from shop_manager.conf import get_config
from shop_manager.models import STOCK_CONDITIONS, AlertDismissal, Product

__all__ = [
    "ANY_CONDITION",
    "COUNT_KEYS",
    "EXPIRED",
    "EXPIRING",
    "LOW_STOCK",
    "OUT_OF_STOCK",
    "Statement",
    "attention_statement",
    "counts_statement",
]

Statement = tuple[str, tuple[Any, ...]]

# The conditions, on Product.objects.with_stock_flags() (the list's rules).
OUT_OF_STOCK = Q(quantity=0)
# "Not 0" rather than "above 0" (the same for a quantity): a database that
# could scan an index for "above 0" would read nearly every product.
LOW_STOCK = Q(is_low_stock=True) & ~Q(quantity=0)
EXPIRED = Q(is_expired=True)
EXPIRING = Q(is_expiring_soon=True)
ANY_CONDITION = OUT_OF_STOCK | LOW_STOCK | EXPIRED | EXPIRING

# The columns of counts_statement(), in order.
COUNT_KEYS = (
    "products",
    "out_of_stock",
    "low_stock",
    "expired",
    "expiring_soon",
    "attention",
)


def counts_statement(alias: str, today: datetime.date) -> Statement:
    """One row, the columns ``COUNT_KEYS``: how many products
    ``with_stock_flags()`` finds in each condition, and in any."""
    return _compiled("counts", alias, today, 0, *_key(alias))


def attention_statement(alias: str, today: datetime.date, limit: int) -> Statement:
    """Up to ``limit`` products in any condition, the most urgent first, then
    by expiry date and name, each with ``dismissed_<condition>`` flags."""
    return _compiled("attention", alias, today, limit, *_key(alias))


def _key(alias: str) -> tuple[str, int, int]:
    # Everything the statements' text depends on besides the date and limit:
    # the backend (the SQL dialect) and the two settings with_stock_flags reads.
    config = get_config()
    return (
        connections[alias].vendor,
        config["LOW_STOCK_THRESHOLD"],
        config["EXPIRING_SOON_DAYS"],
    )


# A few entries: one per statement and database, a second while a day turns.
@lru_cache(maxsize=16)
def _compiled(
    kind: str,
    alias: str,
    today: datetime.date,
    limit: int,
    vendor: str,
    threshold: int,
    soon_days: int,
) -> Statement:
    if kind == "counts":
        return _counts(alias, today, threshold)
    sql, params = _attention(today, limit, threshold).query.get_compiler(alias).as_sql()
    return sql, tuple(params)


def _attention(today: datetime.date, limit: int, threshold: int) -> QuerySet[Any]:
    urgency = Case(
        When(OUT_OF_STOCK, then=Value(0)),
        When(EXPIRED, then=Value(1)),
        When(LOW_STOCK, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    # Nulls last on every database: a date that is near comes first.
    order = (F("expiry_date").asc(nulls_last=True), "name", "pk")
    flagged = Product.objects.with_stock_flags(today).filter(ANY_CONDITION)
    ranked = flagged.annotate(urgency=urgency)
    # The first `limit` of each urgency, in the panel's order: together they
    # hold the panel's `limit`, so the statement below orders a few dozen
    # products, not every one in a condition. Each class is its urgency; the
    # extra terms only restate what that implies, for an index to answer.
    classes = [
        ranked.filter(OUT_OF_STOCK, urgency=0),
        ranked.filter(EXPIRED, urgency=1),
        ranked.filter(
            urgency=2,
            low_stock_threshold__isnull=True,
            quantity__gt=0,
            quantity__lte=threshold,
        ),
        ranked.filter(urgency=2, low_stock_threshold__isnull=False),
        ranked.filter(EXPIRING, urgency=3),
    ]
    candidates = Q()
    for products in classes:
        candidates |= Q(pk__in=products.order_by(*order).values("pk")[:limit])
    # Whether each condition's alert was dismissed, read with the products.
    dismissed = {
        f"dismissed_{condition}": Exists(
            AlertDismissal.objects.filter(
                product_pk=OuterRef("pk"), condition=condition
            )
        )
        for condition in STOCK_CONDITIONS
    }
    return (
        flagged.filter(candidates)
        .annotate(urgency=urgency, **dismissed)
        .order_by("urgency", *order)[:limit]
    )


def _counts(alias: str, today: datetime.date, threshold: int) -> Statement:
    flagged = Product.objects.with_stock_flags(today)
    # Each count one statement the database can answer from an index (0008)
    # rather than one pass over every product. The extra terms only restate
    # what the condition implies, so each count is the condition's own: a
    # product without its own threshold is low at most at the default. "Needs
    # attention" is |stock| + |expiry| - |both|, since out of stock and low
    # stock exclude each other (quantity 0, above 0), as expired and expiring
    # soon do (before today, from today).
    pieces = {
        "products": Product.objects.all(),
        "out_of_stock": flagged.filter(OUT_OF_STOCK),
        "low_default": flagged.filter(
            LOW_STOCK,
            low_stock_threshold__isnull=True,
            quantity__gt=0,
            quantity__lte=threshold,
        ),
        "low_own": flagged.filter(LOW_STOCK, low_stock_threshold__isnull=False),
        "expired": flagged.filter(EXPIRED),
        "expiring_soon": flagged.filter(EXPIRING),
        "both": flagged.filter((OUT_OF_STOCK | LOW_STOCK) & (EXPIRED | EXPIRING)),
    }
    connection = connections[alias]
    q = {name: connection.ops.quote_name(name) for name in pieces}
    columns: list[str] = []
    params: list[Any] = []
    for name, queryset in pieces.items():
        sql, piece_params = _count_of(queryset).query.get_compiler(alias).as_sql()
        columns.append(f"({sql}) AS {q[name]}")
        params.extend(piece_params)
    low = f"{q['low_default']} + {q['low_own']}"
    stock = f"{q['out_of_stock']} + {low}"
    expiry = f"{q['expired']} + {q['expiring_soon']}"
    outer = [
        q["products"],
        q["out_of_stock"],
        low,
        q["expired"],
        q["expiring_soon"],
        f"{stock} + {expiry} - {q['both']}",
    ]
    inner = f"SELECT {', '.join(columns)}{connection.features.bare_select_suffix}"
    sql = f"SELECT {', '.join(outer)} FROM ({inner}) {connection.ops.quote_name('c')}"
    return sql, tuple(params)


def _count_of(queryset: QuerySet[Any]) -> QuerySet[Any]:
    # COUNT as a plain function, not an aggregate: the ORM then adds no
    # GROUP BY, and the statement is the queryset's one-row count.
    counted: QuerySet[Any] = (
        queryset.order_by()
        .annotate(n=Func(Star(), function="COUNT", output_field=IntegerField()))
        .values("n")
    )
    return counted
