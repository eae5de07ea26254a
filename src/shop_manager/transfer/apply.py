"""Applying an import: all rows or none, in one transaction, as the importing
user, announced to dashboards as one bulk notice after commit."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from shop_manager.changelog.actors import acting_as
from shop_manager.changelog.writer import announced_together, log_events, snapshot
from shop_manager.models import Product, ProductEvent
from shop_manager.slugs import (
    RESERVED_SLUGS,
    SLUG_MAX_LENGTH,
    next_free_slug,
    slug_base,
)
from shop_manager.transfer.plan import (
    CHANGED,
    CREATED,
    LOOKUP_BATCH,
    ImportPlan,
    Progress,
    Rights,
    RowPlan,
    plan_import,
)
from shop_manager.transfer.reading import Table

__all__ = ["ImportRefused", "ImportResult", "import_table"]

# Rows written per bulk query (and between progress calls).
WRITE_BATCH = 1000
# Products per UPDATE statement.
UPDATE_BATCH = 100
# The change log's action for each outcome that writes.
LOGGED_ACTIONS: dict[str, str] = {
    CREATED: ProductEvent.Action.CREATED,
    CHANGED: ProductEvent.Action.UPDATED,
}
# Distinct slug bases looked up per query when naming new products.
SLUG_QUERY_BASES = 200


class ImportRefused(Exception):
    """Nothing was written: rows were refused, or the plan is not the one
    the user previewed (``changed``). ``plan`` is the plan as it is now."""

    def __init__(self, plan: ImportPlan, *, changed: bool = False) -> None:
        super().__init__(plan)
        self.plan = plan
        self.changed = changed


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
    """Plan ``table`` again with its products locked and write it, or raise
    :class:`ImportRefused` having written nothing.

    ``expected_digest`` is the previewed plan's digest: if the products
    changed meanwhile so that the plan differs, nothing is written.
    """
    with transaction.atomic(), acting_as(actor):
        plan = plan_import(table, rights, lock=True)
        if plan.refused:
            raise ImportRefused(plan)
        if expected_digest is not None and plan.digest != expected_digest:
            raise ImportRefused(plan, changed=True)
        rows = [row for row in plan.rows if row.writes]
        with announced_together() as events:
            for start in range(0, len(rows), WRITE_BATCH):
                _write(rows[start : start + WRITE_BATCH])
                if progress is not None:
                    progress(min(start + WRITE_BATCH, len(rows)), len(rows))
    return ImportResult(plan, list(events))


def _write(rows: list[RowPlan]) -> None:
    """Write one batch in a few queries and log it, in file order.

    ``bulk_create``/``bulk_update`` send no signals, so the change-log
    entries are written here (as the change log asks of bulk paths), with the
    diffs the plan found; slugs, versions and timestamps are done as
    ``Product.save()`` does them.
    """
    created = [row.product for row in rows if row.outcome == CREATED]
    changed = [row.product for row in rows if row.outcome == CHANGED]
    _assign_slugs(created)
    Product.objects.bulk_create(created)
    if changed:
        now = timezone.now()
        fields = {"version", "modified"}
        for row in rows:
            if row.outcome == CHANGED:
                row.product.version += 1
                row.product.modified = now
                fields.update(row.changes)
        # Small batches: each is one UPDATE with a CASE per field, whose cost
        # on PostgreSQL grows with the square of the batch.
        Product.objects.bulk_update(changed, sorted(fields), batch_size=UPDATE_BATCH)
    log_events(
        [
            (
                row.product,
                LOGGED_ACTIONS[row.outcome],
                snapshot(row.product) if row.outcome == CREATED else row.changes,
            )
            for row in rows
        ]
    )


def _assign_slugs(products: list[Product]) -> None:
    """Give new products the slugs ``Product.save()`` would, in a few queries.

    A name's base slug is free unless a product has it, which an indexed
    ``IN`` finds; only bases already taken, reserved, or shared by several
    new products need their numbered variants (``tea-2``…) looked up, with a
    regex over ``SLUG_QUERY_BASES`` bases at a time.
    """
    bases = [slug_base(product.name, SLUG_MAX_LENGTH) for product in products]
    distinct = sorted(set(bases))
    taken: set[str] = set()
    for start in range(0, len(distinct), LOOKUP_BATCH):
        taken.update(
            Product.objects.filter(
                slug__in=distinct[start : start + LOOKUP_BATCH]
            ).values_list("slug", flat=True)
        )
    repeated = {base for base, count in Counter(bases).items() if count > 1}
    crowded = sorted(repeated | ((taken | RESERVED_SLUGS) & set(distinct)))
    for start in range(0, len(crowded), SLUG_QUERY_BASES):
        chunk = crowded[start : start + SLUG_QUERY_BASES]
        pattern = "^(" + "|".join(re.escape(base) for base in chunk) + ")(-[0-9]+)?$"
        taken.update(
            Product.objects.filter(slug__regex=pattern).values_list("slug", flat=True)
        )
    for product, base in zip(products, bases, strict=True):
        product.slug = next_free_slug(base, taken, SLUG_MAX_LENGTH)
        taken.add(product.slug)
