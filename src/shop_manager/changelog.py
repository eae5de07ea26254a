"""The change log: one ``ProductEvent`` per product change, in the change's own
transaction, announced to the notifiers only once that transaction commits.

``post_save``/``post_delete`` receivers cover admin, shell and every code path
that calls ``save()``/``delete()``. ``QuerySet.update()`` and ``bulk_create()``
send no signals: code that uses them calls :func:`log_event` or
:func:`log_created` itself.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import connections, router, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from shop_manager import notifiers
from shop_manager.actors import get_actor
from shop_manager.models import EDITABLE_FIELDS, Product, ProductEvent
from shop_manager.payloads import json_safe

__all__ = ["TRACKED_FIELDS", "log_created", "log_event", "logged_value"]

# The fields a diff reports.
TRACKED_FIELDS = EDITABLE_FIELDS
# PostgreSQL advisory lock key taken while writing to the log (see _serialise).
_LOG_LOCK_KEY = zlib.crc32(b"shop_manager.ProductEvent")


def log_event(
    product: Product,
    action: str,
    changes: Mapping[str, Sequence[Any]] | None = None,
    *,
    using: str | None = None,
) -> ProductEvent:
    """Log one change to ``product`` and notify after commit.

    ``changes`` maps field names to ``(old, new)``. Call it inside the
    transaction that made the change, e.g. after ``QuerySet.update()``.
    """
    return log_events([(product, action, changes or {})], using=using)[0]


def log_created(
    products: Iterable[Product], *, using: str | None = None
) -> list[ProductEvent]:
    """Log products made with ``bulk_create()`` (which sends no signals)."""
    return log_events(
        [
            (product, ProductEvent.Action.CREATED, _snapshot(product))
            for product in products
        ],
        using=using,
    )


def log_events(
    entries: Sequence[tuple[Product, str, Mapping[str, Sequence[Any]]]],
    *,
    using: str | None = None,
) -> list[ProductEvent]:
    using = using or router.db_for_write(ProductEvent)
    actor = get_actor()
    events = [
        ProductEvent(
            action=action,
            product_pk=product.pk,
            product_name=product.name,
            product_slug=product.slug,
            product_version=product.version,
            changes={
                field: [logged_value(field, old), logged_value(field, new)]
                for field, (old, new) in changes.items()
            },
            actor=actor,
            actor_name=actor.get_username() if actor is not None else "",
        )
        for product, action, changes in entries
    ]
    if not events:
        return []
    with transaction.atomic(using=using):
        _serialise(using)
        events = ProductEvent.objects.using(using).bulk_create(events)
        transaction.on_commit(
            partial(notifiers.notify, events), using=using, robust=True
        )
    return events


def _serialise(using: str) -> None:
    """Make log ids follow commit order on PostgreSQL.

    Sequences hand out ids at insert time, so two concurrent transactions can
    commit ids 11 then 10; a dashboard that already holds 11 would then replay
    from 11 and never see 10. Holding one lock from the first log insert until
    commit makes every writer take its ids in turn. SQLite writes one
    transaction at a time anyway.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOG_LOCK_KEY])


def logged_value(field: str, value: Any) -> Any:
    """``value`` of ``field`` as the log stores it, so values compare equal
    whether they came from a form, the database or the log."""
    return json_safe(_normalise(field, value))


def _normalise(field: str, value: Any) -> Any:
    # Show money as stored ("3.50"), whether the value came from a form or the DB.
    if isinstance(value, Decimal) and value.is_finite():
        places = Product._meta.get_field(field).decimal_places  # type: ignore[union-attr]
        return value.quantize(Decimal(1).scaleb(-places))
    return value


def _snapshot(product: Product) -> dict[str, tuple[Any, Any]]:
    return {
        field: (None, getattr(product, field))
        for field in TRACKED_FIELDS
        if getattr(product, field) not in (None, "")
    }


def _diff(
    product: Product, saved_fields: Iterable[str] | None
) -> dict[str, tuple[Any, Any]]:
    previous = product.tracker.changed()
    fields = TRACKED_FIELDS if saved_fields is None else set(saved_fields)
    return {
        field: (previous[field], getattr(product, field))
        for field in TRACKED_FIELDS
        if field in previous and field in fields
    }


@receiver(post_save, sender=Product, dispatch_uid="shop_manager.log_product_save")
def _log_save(
    sender: type[Product],
    instance: Product,
    created: bool,
    raw: bool,
    using: str,
    **kwargs: Any,
) -> None:
    if raw:  # loaddata: fixtures are not changes anyone made.
        return
    if created:
        log_event(
            instance, ProductEvent.Action.CREATED, _snapshot(instance), using=using
        )
        return
    changes = _diff(instance, kwargs.get("update_fields"))
    if changes:
        log_event(instance, ProductEvent.Action.UPDATED, changes, using=using)


@receiver(post_delete, sender=Product, dispatch_uid="shop_manager.log_product_delete")
def _log_delete(
    sender: type[Product], instance: Product, using: str, **kwargs: Any
) -> None:
    log_event(instance, ProductEvent.Action.DELETED, using=using)
