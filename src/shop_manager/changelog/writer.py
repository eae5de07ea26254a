"""Writing the change log: one ``ProductEvent`` per product change, in the
change's own transaction, announced (the ``events_committed`` signal) only
once that transaction commits."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from shop_manager.changelog.actors import get_actor
from shop_manager.changelog.alerts import alerts_for, forget_dismissals
from shop_manager.changelog.signals import events_committed
from shop_manager.copying import can_copy, copy_insert
from shop_manager.models import EDITABLE_FIELDS, Product, ProductEvent

__all__ = [
    "TRACKED_FIELDS",
    "actor_name",
    "announce",
    "announced_together",
    "log_created",
    "log_event",
    "log_events",
    "logged_value",
    "snapshot",
]

logger = logging.getLogger("shop_manager.changelog")

# The fields a diff reports.
TRACKED_FIELDS = EDITABLE_FIELDS
# Turns Decimals into their exact string ("3.50") and dates into ISO 8601.
_ENCODER = DjangoJSONEncoder()
# Values JSON holds as they are.
_JSON_NATIVE = (str, int, float, bool, type(None))
# PostgreSQL advisory lock key taken while writing to the log (see _serialise).
_LOG_LOCK_KEY = zlib.crc32(b"shop_manager.ProductEvent")
# Set inside ``announced_together``: events logged meanwhile wait in it.
_held: ContextVar[list[ProductEvent] | None] = ContextVar(
    "shop_manager_held_events", default=None
)


@contextmanager
def announced_together(*, using: str | None = None) -> Iterator[list[ProductEvent]]:
    """Log every change made inside the block as usual, but announce them
    as one bulk change after commit (``bulk=True``) instead of one by one.

    For bulk paths such as the CSV import: dashboards get one bounded notice
    and fetch the range from the log, rather than one frame per row. Use it
    inside the transaction that makes the changes; it yields the events
    logged so far. Nothing is announced if the transaction rolls back.
    """
    using = using or router.db_for_write(ProductEvent)
    held: list[ProductEvent] = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)
    if held:
        transaction.on_commit(
            partial(announce, held, bulk=True), using=using, robust=True
        )


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
            (product, ProductEvent.Action.CREATED, snapshot(product))
            for product in products
        ],
        using=using,
    )


def log_events(
    entries: Sequence[tuple[Product, str, Mapping[str, Sequence[Any]]]],
    *,
    using: str | None = None,
) -> list[ProductEvent]:
    """Log ``(product, action, changes)`` entries, in order, in the current
    transaction, and announce them after commit.

    One query for a few; from ``COPY_MIN_ROWS`` on PostgreSQL a ``COPY``
    (:mod:`shop_manager.copying`), which a big import needs. The events of
    one call share one timestamp.
    """
    using = using or router.db_for_write(ProductEvent)
    actor = get_actor()
    name = actor_name(actor) if actor is not None else ""
    actor_id = actor.pk if actor is not None else None
    now = timezone.now()
    alerts = alerts_for(entries, timezone.localdate(), using=using)
    events = [
        _event(
            {
                "id": None,
                "action": action,
                "product_pk": product.pk,
                "product_name": product.name,
                "product_slug": product.slug,
                "product_version": product.version,
                "changes": {
                    field: [logged_value(field, old), logged_value(field, new)]
                    for field, (old, new) in changes.items()
                },
                "actor_id": actor_id,
                "actor_name": name,
                "created": now,
                "alerts": product_alerts,
            },
            actor,
        )
        for (product, action, changes), product_alerts in zip(
            entries, alerts, strict=True
        )
    ]
    if not events:
        return []
    # No savepoint of its own: the log is written inside the change's
    # transaction (Product.save() opens one), and a failure here must undo
    # the change too. Saves two round trips per change.
    with transaction.atomic(using=using, savepoint=False):
        _serialise(using)
        if can_copy(using, len(events)):
            copy_insert(events, using=using)
        else:
            events = ProductEvent.objects.using(using).bulk_create(events)
        forget_dismissals(events, using=using)
        held = _held.get()
        if held is not None:
            held.extend(events)
        else:
            transaction.on_commit(partial(announce, events), using=using, robust=True)
    return events


def _event(values: dict[str, Any], actor: Any) -> ProductEvent:
    """An unsaved event holding ``values`` (by attribute name, every field),
    as ``ProductEvent(**fields, actor=actor)`` makes it, without the cost of
    ``Model.__init__`` (signals, a default per field), which a 100,000-row
    import paid for every event."""
    event = ProductEvent.__new__(ProductEvent)
    event._state = ModelState()
    event.__dict__.update(values)
    # As __init__ given the actor: reading event.actor costs no query.
    event._state.fields_cache["actor"] = actor
    return event


def announce(events: Sequence[ProductEvent], *, bulk: bool = False) -> None:
    """Send ``events_committed`` for committed ``events``; a receiver that
    raises is logged, never raised: the change is saved whatever it does."""
    results = events_committed.send_robust(
        sender=ProductEvent, events=events, bulk=bulk
    )
    for receiver, result in results:
        if isinstance(result, Exception):
            logger.error(
                "%r failed on event(s) %s; they stay in the change log.",
                receiver,
                ", ".join(str(event.pk) for event in events),
                exc_info=result,
            )


def actor_name(actor: Any) -> str:
    """Who made a change, as the people reading the log know them: the
    user's full name when the user model has one, else the username."""
    full_name = getattr(actor, "get_full_name", None)
    name = str(full_name() if callable(full_name) else "").strip()
    max_length = ProductEvent._meta.get_field("actor_name").max_length or 150
    return (name or str(actor.get_username()))[:max_length]


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
    value = _normalise(field, value)
    return value if isinstance(value, _JSON_NATIVE) else _ENCODER.default(value)


def _normalise(field: str, value: Any) -> Any:
    # Show money as stored ("3.50"), whether the value came from a form or the DB.
    if isinstance(value, Decimal) and value.is_finite():
        places = Product._meta.get_field(field).decimal_places  # type: ignore[union-attr]
        return value.quantize(Decimal(1).scaleb(-places))
    return value


def snapshot(product: Product) -> dict[str, tuple[Any, Any]]:
    return {
        field: (None, getattr(product, field))
        for field in TRACKED_FIELDS
        if getattr(product, field) not in (None, "")
    }
