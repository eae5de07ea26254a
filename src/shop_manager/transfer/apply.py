"""Applying an import: all rows or none, in one transaction, as the importing
user, announced to dashboards as one bulk notice after commit.

The file is planned again first, with nothing locked: checking 100,000 rows
takes seconds, and no save elsewhere should wait for that. Only then does one
short transaction lock the products the plan changes (``SELECT … FOR
UPDATE``, in primary-key order, as any other importer would), check that
none was saved since it was planned (its ``version``), and write. A product
saved in between, or a SKU or slug taken meanwhile, rolls the write back and
the file is planned again (``ATTEMPTS`` times): the user still applies
exactly the plan they previewed, or is shown the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from shop_manager import changelog
from shop_manager.models import Product, ProductEvent
from shop_manager.transfer.plan import (
    CHANGED,
    CREATED,
    LOOKUP_BATCH,
    WRITTEN,
    ImportPlan,
    Progress,
    Rights,
    RowPlan,
    plan_import,
)
from shop_manager.transfer.reading import Table
from shop_manager.transfer.writing import (
    assign_slugs,
    insert_products,
    new_product_values,
    unsaved_product,
    update_products,
)

__all__ = ["ImportConflict", "ImportRefused", "ImportResult", "import_table"]

# Rows written per bulk query (and between progress calls).
WRITE_BATCH = 1000
# Plans made before giving up on products that keep changing.
ATTEMPTS = 3
# The change log's action for each outcome that writes.
LOGGED_ACTIONS: dict[str, str] = {
    CREATED: ProductEvent.Action.CREATED,
    CHANGED: ProductEvent.Action.UPDATED,
}


class ImportRefused(Exception):
    """Nothing was written: rows were refused, or the plan is not the one
    the user previewed (``changed``). ``plan`` is the plan as it is now."""

    def __init__(self, plan: ImportPlan, *, changed: bool = False) -> None:
        super().__init__(plan)
        self.plan = plan
        self.changed = changed


class ImportConflict(Exception):
    """Nothing was written: products kept changing between planning the
    file and writing it, ``ATTEMPTS`` times."""


class _Stale(Exception):
    """A product the plan changes was saved after it was planned."""


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    events: list[ProductEvent]


def import_table(
    table: Table,
    rights: Rights,
    *,
    actor: Any | None,
    expected_digest: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Plan ``table`` again and write it, or raise :class:`ImportRefused` or
    :class:`ImportConflict` having written nothing.

    ``expected_digest`` is the previewed plan's digest: if the products
    changed meanwhile so that the plan differs, nothing is written.
    ``progress(stage, done, total)`` hears of rows checked, then written.
    """
    for _attempt in range(ATTEMPTS):
        plan = plan_import(table, rights, keep_writes=True, progress=progress)
        if plan.refused:
            raise ImportRefused(plan)
        if expected_digest is not None and plan.digest != expected_digest:
            raise ImportRefused(plan, changed=True)
        try:
            events = _write(plan.writes, actor, progress)
        except (_Stale, IntegrityError):
            # Someone saved a product, or took a new SKU or slug, since the
            # plan: plan again against what is there now.
            continue
        return ImportResult(plan, events)
    raise ImportConflict


def _write(
    rows: list[RowPlan], actor: Any | None, progress: Progress | None
) -> list[ProductEvent]:
    with (
        transaction.atomic(),
        changelog.acting_as(actor),
        changelog.announced_together() as events,
    ):
        current = _lock([row for row in rows if row.outcome == CHANGED])
        now = timezone.now()
        for start in range(0, len(rows), WRITE_BATCH):
            _write_batch(rows[start : start + WRITE_BATCH], current, now)
            if progress is not None:
                progress(WRITTEN, min(start + WRITE_BATCH, len(rows)), len(rows))
    return list(events)


def _lock(rows: list[RowPlan]) -> dict[int, tuple[str, str]]:
    """Lock the products ``rows`` change until commit, and return each one's
    name and slug (the log names them); raise :class:`_Stale` if one was
    saved or deleted since it was planned."""
    planned = {row.pk: row.version for row in rows}
    pks = sorted(pk for pk in planned if pk is not None)
    current: dict[int, tuple[str, str]] = {}
    for start in range(0, len(pks), LOOKUP_BATCH):
        chunk = pks[start : start + LOOKUP_BATCH]
        locked = (
            Product.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", "version", "name", "slug")
        )
        for pk, version, name, slug in locked:
            if version != planned[pk]:
                raise _Stale
            current[pk] = (name, slug)
    if len(current) != len(pks):
        raise _Stale  # Deleted meanwhile.
    return current


def _write_batch(
    rows: Sequence[RowPlan], current: dict[int, tuple[str, str]], now: Any
) -> None:
    """Write one batch in a few queries and log it, in file order.

    ``bulk_create`` and the batched update send no signals, so the change-log
    entries are written here (as the change log asks of bulk paths), with the
    diffs the plan found; slugs, versions and timestamps are done as
    ``Product.save()`` does them.
    """
    products: list[Product] = []
    created: list[Product] = []
    # An UPDATE sets the same fields on every product it changes: products
    # are updated together when the same fields changed.
    changed: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    defaults = new_product_values()  # One timestamp per batch, as for changes.
    for row in rows:
        values = row.values or {}
        if row.pk is None or row.version is None:
            product = unsaved_product({**defaults, **values})
            created.append(product)
        else:
            name, slug = current[row.pk]
            version = row.version + 1
            fields = {"version": version, "modified": now, **values}
            changed.setdefault(tuple(sorted(fields)), []).append((row.pk, fields))
            product = unsaved_product(
                {"id": row.pk, "name": name, "slug": slug, **fields}
            )
        products.append(product)
    assign_slugs(created)
    insert_products(created)
    for group in changed.values():
        update_products(group)
    changelog.log_events(
        [
            (product, LOGGED_ACTIONS[row.outcome], row.changes)
            for row, product in zip(rows, products, strict=True)
        ]
    )
