"""The ``post_save``/``post_delete`` receivers that log every product change.

They cover admin, shell and every code path that calls ``save()``/``delete()``.
``QuerySet.update()`` and ``bulk_create()`` send no signals: code that uses them
calls :func:`~shop_manager.changelog.log_event` or
:func:`~shop_manager.changelog.log_created` itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from shop_manager.changelog.writer import TRACKED_FIELDS, log_event, snapshot
from shop_manager.models import Product, ProductEvent

__all__: list[str] = []


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
            instance, ProductEvent.Action.CREATED, snapshot(instance), using=using
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
