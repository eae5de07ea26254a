"""Stock alerts decided where a change is logged: from the product's values
before and after it, which stock conditions the change entered and which it
cleared (``ProductEvent.alerts``).

Decided once, in the change's transaction, so every server process, every
dashboard (live or replaying) and every webhook endpoint sees the same
answer. Time passing also moves products into the near-expiry window with no
change to log: the dashboard lists those from the data at page load
(``shop_manager.stock_summary``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q
from django.utils import timezone

from shop_manager.models import AlertDismissal, Product, ProductEvent
from shop_manager.models import stock_conditions as conditions_of

__all__ = ["ALERT_FIELDS", "alerts_for", "forget_dismissals", "transitions"]

# The fields the conditions read.
ALERT_FIELDS = ("quantity", "low_stock_threshold", "expiry_date")


def alerts_for(
    entries: Sequence[tuple[Product, str, Mapping[str, Sequence[Any]]]],
    today: datetime.date,
    *,
    using: str,
) -> list[dict[str, Any]]:
    """:func:`transitions` for each of the log's entries.

    A bulk path (the CSV import) hands the log products that hold only the
    fields it changed: the others are read for them, in one query, from the
    rows it has just written (where the fields it did not change still hold
    their old values). None for products that hold them all, as ``save()``
    and ``delete()`` give them.
    """
    partial_pks = [
        product.pk
        for product, _action, _changes in entries
        if product.pk is not None
        and any(field not in product.__dict__ for field in ALERT_FIELDS)
    ]
    stored: dict[Any, dict[str, Any]] = {}
    if partial_pks:
        rows = Product.objects.using(using).filter(pk__in=partial_pks)
        stored = {row["pk"]: row for row in rows.values("pk", *ALERT_FIELDS)}
    return [
        transitions(product, action, changes, today, stored.get(product.pk))
        for product, action, changes in entries
    ]


def transitions(
    product: Product,
    action: str,
    changes: Mapping[str, Sequence[Any]],
    today: datetime.date | None = None,
    stored: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``ProductEvent.alerts`` holds for this change: ``entered`` and
    ``cleared`` (conditions, most urgent first), the product's
    ``conditions`` after it, and the ``quantity`` and ``expiry_date`` the
    alerts word; ``{}`` when the change entered and cleared nothing.

    ``changes`` maps fields to ``(old, new)`` as the log is given them; a
    field it lacks kept the product's current value (from ``stored`` when
    the product does not hold it).
    """
    today = today or timezone.localdate()
    current = {
        field: product.__dict__[field]
        if field in product.__dict__
        else (stored or {}).get(field)
        for field in ALERT_FIELDS
    }
    old = {**current, **{f: changes[f][0] for f in ALERT_FIELDS if f in changes}}
    new = {**current, **{f: changes[f][1] for f in ALERT_FIELDS if f in changes}}
    before = () if action == ProductEvent.Action.CREATED else _conditions(old, today)
    after = () if action == ProductEvent.Action.DELETED else _conditions(new, today)
    entered = [name for name in after if name not in before]
    cleared = [name for name in before if name not in after]
    if not entered and not cleared:
        return {}
    expiry = _date(new["expiry_date"])
    return {
        "entered": entered,
        "cleared": cleared,
        "conditions": list(after),
        "quantity": _quantity(new["quantity"]),
        "expiry_date": expiry.isoformat() if expiry else None,
    }


def forget_dismissals(events: Sequence[ProductEvent], *, using: str) -> None:
    """Delete the dismissals of every condition ``events`` entered or cleared
    (one query, none when they touched no alert): an alert that clears and
    comes back is raised again."""
    match = Q()
    for event in events:
        touched = [*event.alerts.get("entered", ()), *event.alerts.get("cleared", ())]
        if touched:
            match |= Q(product_pk=event.product_pk, condition__in=touched)
    if match:
        AlertDismissal.objects.using(using).filter(match).delete()


def _conditions(values: dict[str, Any], today: datetime.date) -> tuple[str, ...]:
    quantity = _quantity(values["quantity"])
    if quantity is None:  # A product being made without one: nothing to say.
        return ()
    return conditions_of(
        quantity,
        _quantity(values["low_stock_threshold"]),
        _date(values["expiry_date"]),
        today,
    )


def _quantity(value: Any) -> int | None:
    # A value from the log (or a form) may be a string of digits.
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None
