"""The import plan: what each row of a file would do, found without writing.

Every row goes through the product form, so a row is refused for exactly the
reasons the product pages give. The plan is made twice: for the preview, and
again inside the apply's transaction with the matched products locked, so
what is written never comes from the client. Its :attr:`ImportPlan.digest`
lets the apply check that it is writing what the user saw.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from shop_manager.changelog.writer import logged_value
from shop_manager.forms import ProductForm
from shop_manager.models import COST_FIELDS, EDITABLE_FIELDS, Product
from shop_manager.transfer.columns import KEY_COLUMN, cell_text
from shop_manager.transfer.reading import FileRefused, Table

__all__ = [
    "CHANGED",
    "CREATED",
    "REFUSED",
    "SKIPPED",
    "UNCHANGED",
    "ImportPlan",
    "Rights",
    "RowForm",
    "RowPlan",
    "plan_import",
]

CREATED = "created"
CHANGED = "changed"
UNCHANGED = "unchanged"
SKIPPED = "skipped"  # No SKU: nothing to match; reported, not blocking.
REFUSED = "refused"
# Products looked up per query.
LOOKUP_BATCH = 2000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rights:
    """What the importing user may do (the permission policy's answers)."""

    add: bool = True
    change: bool = True
    see_costs: bool = True


@dataclass
class RowPlan:
    line: int
    sku: str
    outcome: str
    # field -> (old, new), as the change log writes values.
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    form: RowForm | None = field(default=None, repr=False, compare=False)

    @property
    def writes(self) -> bool:
        return self.outcome in (CREATED, CHANGED)

    @property
    def product(self) -> Product:
        """The product as the row leaves it (unsaved); only for valid rows."""
        if self.form is None:
            raise ValueError(f"Line {self.line} has no valid form.")
        return self.form.instance


@dataclass
class ImportPlan:
    columns: tuple[str, ...]
    rows: list[RowPlan]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(row.outcome for row in self.rows)
        return {
            outcome: counted[outcome]
            for outcome in (CREATED, CHANGED, UNCHANGED, SKIPPED, REFUSED)
        }

    @property
    def refused(self) -> list[RowPlan]:
        return [row for row in self.rows if row.outcome == REFUSED]

    @property
    def digest(self) -> str:
        """A fingerprint of every row's outcome and changes."""
        summary = [
            [row.line, row.sku, row.outcome, sorted(row.changes.items()), row.reasons]
            for row in self.rows
        ]
        text = json.dumps(summary, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


class RowForm(ProductForm):
    """The product form without its two per-row queries, which would make a
    10,000-row preview 20,000 round trips.

    Its field rules are unchanged, so a row is refused with the pages' own
    messages. The SKU uniqueness check is the import's matching itself (every
    SKU is looked up in batches and checked against the file's other rows);
    the check constraints (price and cost ≥ 0) repeat the fields' validators.
    """

    def validate_unique(self) -> None:
        pass

    def validate_constraints(self) -> None:
        pass


def plan_import(
    table: Table,
    rights: Rights,
    *,
    lock: bool = False,
    progress: Progress | None = None,
) -> ImportPlan:
    """What importing ``table`` would do; writes nothing.

    ``lock`` (inside a transaction) locks the matched products until commit.
    ``progress(done, total)`` is called every ``LOOKUP_BATCH`` rows.
    """
    hidden = [column for column in table.columns if column in COST_FIELDS]
    if hidden and not rights.see_costs:
        raise FileRefused(
            _("You may not import %(columns)s: leave those columns out.")
            % {"columns": ", ".join(hidden)}
        )
    duplicates = _duplicate_lines(table)
    plans: list[RowPlan] = []
    total = len(table.rows)
    for start in range(0, total, LOOKUP_BATCH):
        batch = table.rows[start : start + LOOKUP_BATCH]
        products = _products(
            (row.values.get(KEY_COLUMN, "").strip() for row in batch), lock=lock
        )
        for row in batch:
            sku = row.values.get(KEY_COLUMN, "").strip()
            if row.problem:
                plans.append(RowPlan(row.line, sku, REFUSED, reasons=[row.problem]))
            elif not sku:
                plans.append(
                    RowPlan(row.line, sku, SKIPPED, reasons=[_("No SKU: not matched.")])
                )
            elif sku in duplicates:
                others = ", ".join(str(n) for n in duplicates[sku] if n != row.line)
                reason = _("SKU %(sku)s is also on line %(lines)s.") % {
                    "sku": sku,
                    "lines": others,
                }
                plans.append(RowPlan(row.line, sku, REFUSED, reasons=[reason]))
            else:
                plans.append(_plan_row(row.line, sku, row.values, products, rights))
        if progress is not None:
            progress(min(start + LOOKUP_BATCH, total), total)
    return ImportPlan(table.columns, plans)


def _duplicate_lines(table: Table) -> dict[str, list[int]]:
    lines: dict[str, list[int]] = {}
    for row in table.rows:
        sku = row.values.get(KEY_COLUMN, "").strip()
        if sku:
            lines.setdefault(sku, []).append(row.line)
    return {sku: found for sku, found in lines.items() if len(found) > 1}


def _products(skus: Iterable[str], *, lock: bool) -> dict[str, Product]:
    wanted = [sku for sku in skus if sku]
    queryset = Product.objects.filter(sku__in=wanted)
    if lock:
        queryset = queryset.select_for_update().order_by("pk")
    return {product.sku: product for product in queryset if product.sku}


def _plan_row(
    line: int,
    sku: str,
    values: dict[str, str],
    products: dict[str, Product],
    rights: Rights,
) -> RowPlan:
    product = products.get(sku)
    if product is None and not rights.add:
        return RowPlan(line, sku, REFUSED, reasons=[_("You may not add products.")])
    if product is not None and not rights.change:
        return RowPlan(line, sku, REFUSED, reasons=[_("You may not change products.")])
    # Columns the file leaves out keep their values, or get the defaults.
    if product is None:
        before = {name: _default(name) for name in EDITABLE_FIELDS}
    else:
        before = {name: getattr(product, name) for name in EDITABLE_FIELDS}
    data = {name: cell_text(value) for name, value in before.items()}
    if product is not None:
        data["version"] = str(product.version)
    data.update(values)
    form = RowForm(data, instance=product, with_costs=rights.see_costs)
    if not form.is_valid():
        return RowPlan(line, sku, REFUSED, reasons=_reasons(form))
    if product is None:
        changes = {
            name: (None, logged_value(name, form.cleaned_data[name]))
            for name in EDITABLE_FIELDS
            if name in form.cleaned_data and form.cleaned_data[name] not in (None, "")
        }
        return RowPlan(line, sku, CREATED, changes, form=form)
    changes = {}
    for name in EDITABLE_FIELDS:
        if name not in form.cleaned_data:
            continue
        old = logged_value(name, before[name])
        new = logged_value(name, form.cleaned_data[name])
        if old != new:
            changes[name] = (old, new)
    return RowPlan(line, sku, CHANGED if changes else UNCHANGED, changes, form=form)


def _default(name: str) -> Any:
    return Product._meta.get_field(name).get_default()  # type: ignore[union-attr]


def _reasons(form: ProductForm) -> list[str]:
    reasons = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        for error in errors:
            reasons.append(f"{label}: {error}" if label else str(error))
    return reasons
