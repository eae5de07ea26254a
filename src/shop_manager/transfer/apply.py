"""Applying an import: all rows or none, in one transaction, as the importing
user, announced to dashboards as one bulk notice after commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from shop_manager.changelog.actors import acting_as
from shop_manager.changelog.writer import announced_together
from shop_manager.models import ProductEvent
from shop_manager.transfer.plan import ImportPlan, Progress, Rights, plan_import
from shop_manager.transfer.reading import Table

__all__ = ["ImportRefused", "ImportResult", "import_table"]

# Rows written between progress calls.
PROGRESS_EVERY = 1000


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
        writes = [row for row in plan.rows if row.writes]
        with announced_together() as events:
            for done, row in enumerate(writes, 1):
                assert row.form is not None  # Every valid row has its form.
                # The form's save() runs the model's save(): slug, version
                # and the change-log entry, as on the product pages.
                row.form.save()
                if progress is not None and (
                    done % PROGRESS_EVERY == 0 or done == len(writes)
                ):
                    progress(done, len(writes))
    return ImportResult(plan, list(events))
