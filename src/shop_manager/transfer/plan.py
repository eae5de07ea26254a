"""The import plan: what each row of a file would do, found without writing.

Every row is checked with the product form's rules (:mod:`.rules`), so a row
is refused for exactly the reasons the product pages give. The SKUs are
looked up ``LOOKUP_BATCH`` at a time, one query per batch, reading only the
fields the rules and the diff need; nothing is locked.

The plan is made twice: for the preview, and again by the apply, which then
writes only if that plan's :attr:`ImportPlan.digest` is the one the user
saw. A plan keeps what the preview shows (the counts, the first
``SHOWN_ROWS`` rows and ``SHOWN_REFUSALS`` refusals, the digest), so a
preview holds little per row; only the apply's plan keeps the rows it
writes (``keep_writes``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shop_manager.changelog import logged_value
from shop_manager.models import COST_FIELDS, EDITABLE_FIELDS, Product
from shop_manager.storable import is_storable
from shop_manager.transfer.columns import KEY_COLUMN, cell_text
from shop_manager.transfer.reading import FileRefused, Row, Table
from shop_manager.transfer.rules import Cleaned, RowRules

__all__ = [
    "CHANGED",
    "CHECKED",
    "CREATED",
    "OUTCOMES",
    "REFUSED",
    "SKIPPED",
    "UNCHANGED",
    "WRITTEN",
    "ImportPlan",
    "Progress",
    "Rights",
    "RowPlan",
    "plan_import",
]

CREATED = "created"
CHANGED = "changed"
UNCHANGED = "unchanged"
SKIPPED = "skipped"  # No SKU: nothing to match; reported, not blocking.
REFUSED = "refused"
OUTCOMES = (CREATED, CHANGED, UNCHANGED, SKIPPED, REFUSED)
# Products looked up per query.
LOOKUP_BATCH = 2000
# Created, changed and skipped rows a preview lists (the page and
# ``import_products --dry-run``); the rest are counted.
SHOWN_ROWS = 1000
# Refused rows a preview lists, with "and N more".
SHOWN_REFUSALS = 100
# Characters of a SKU a preview shows.
SHOWN_SKU_LENGTH = 80

# The stages ``progress(stage, done, total)`` reports.
CHECKED = "checked"
WRITTEN = "written"
Progress = Callable[[str, int, int], None]

_SKU_MAX_LENGTH: int = getattr(Product._meta.get_field(KEY_COLUMN), "max_length", 0)


@dataclass(frozen=True)
class Rights:
    """What the importing user may do (the permission policy's answers)."""

    add: bool = True
    change: bool = True
    see_costs: bool = True


@dataclass(slots=True)
class RowPlan:
    line: int
    sku: str  # As shown: cut to SHOWN_SKU_LENGTH, unprintable characters escaped.
    outcome: str
    # field -> (old, new), as the change log writes values; for a created
    # row, every field it sets (old None).
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    # The product a changed row changes, and the version it was planned on.
    pk: int | None = None
    version: int | None = None
    # What the apply writes: field -> value as the model holds it.
    values: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def writes(self) -> bool:
        return self.outcome in (CREATED, CHANGED)


@dataclass
class ImportPlan:
    columns: tuple[str, ...]
    counts: dict[str, int]
    # A fingerprint of every row's outcome and changes.
    digest: str
    # The first SHOWN_ROWS created, changed or skipped rows, in file order.
    listed: list[RowPlan]
    # The first SHOWN_REFUSALS refused rows, in file order.
    refusals: list[RowPlan]
    # Every created or changed row, in file order; only with keep_writes.
    writes: list[RowPlan]
    # Rows in the file, and how long checking them took.
    total: int
    seconds: float

    @property
    def refused(self) -> int:
        return self.counts[REFUSED]

    @property
    def unlisted(self) -> int:
        """Created, changed and skipped rows the preview counts but does not list."""
        listable = self.counts[CREATED] + self.counts[CHANGED] + self.counts[SKIPPED]
        return listable - len(self.listed)

    @property
    def unshown_refusals(self) -> int:
        return self.refused - len(self.refusals)


class _Repeat(NamedTuple):
    first: int  # The line the SKU is first on,
    second: int  # the next one,
    lines: int  # and on how many lines in all.


def plan_import(
    table: Table,
    rights: Rights,
    *,
    keep_writes: bool = False,
    progress: Progress | None = None,
) -> ImportPlan:
    """What importing ``table`` would do; writes and locks nothing.

    ``progress(CHECKED, done, total)`` is called every ``LOOKUP_BATCH`` rows.
    """
    started = time.monotonic()
    hidden = [column for column in table.columns if column in COST_FIELDS]
    if hidden and not rights.see_costs:
        raise FileRefused(
            _("You may not import %(columns)s: leave those columns out.")
            % {"columns": ", ".join(hidden)}
        )
    planner = _Planner(rights, _repeated_skus(table), keep_writes=keep_writes)
    done = 0
    for batch in _batches(table, LOOKUP_BATCH):
        planner.plan_batch(batch)
        done += len(batch)
        if progress is not None:
            progress(CHECKED, done, len(table))
    return ImportPlan(
        columns=table.columns,
        counts=planner.counts,
        digest=planner.digest.hexdigest(),
        listed=planner.listed,
        refusals=planner.refusals,
        writes=planner.writes,
        total=len(table),
        seconds=time.monotonic() - started,
    )


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _sku(row: Row) -> str:
    return row.values.get(KEY_COLUMN, "").strip()


def _repeated_skus(table: Table) -> dict[str, _Repeat]:
    """SKUs on more than one line of the file."""
    first: dict[str, int] = {}
    repeats: dict[str, _Repeat] = {}
    for line, cell in table.cells(KEY_COLUMN):
        sku = cell.strip()
        if not sku:
            continue
        earliest = first.setdefault(sku, line)
        if earliest != line:
            seen = repeats.get(sku)
            if seen is None:
                repeats[sku] = _Repeat(earliest, line, 2)
            else:
                repeats[sku] = seen._replace(lines=seen.lines + 1)
    return repeats


def shown_text(text: str) -> str:
    """``text`` as a page or terminal can show it: at most
    ``SHOWN_SKU_LENGTH`` characters, NUL and lone surrogates escaped."""
    shown = text[:SHOWN_SKU_LENGTH]
    if not is_storable(shown, SHOWN_SKU_LENGTH):
        shown = shown.replace("\x00", "\\x00")
        shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
    return shown + "…" if len(text) > SHOWN_SKU_LENGTH else shown


class _Planner:
    """Plans batches of rows in file order and keeps what the plan shows."""

    def __init__(
        self, rights: Rights, repeats: dict[str, _Repeat], *, keep_writes: bool
    ) -> None:
        self.rights = rights
        self.repeats = repeats
        self.keep_writes = keep_writes
        self.rules = RowRules(with_costs=rights.see_costs)
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.digest = hashlib.sha256()
        self.listed: list[RowPlan] = []
        self.refusals: list[RowPlan] = []
        self.writes: list[RowPlan] = []
        # A new product's values, for the fields the file leaves out.
        self.defaults = {name: _default(name) for name in EDITABLE_FIELDS}

    def plan_batch(self, rows: list[Row]) -> None:
        found = _products(_sku(row) for row in rows)
        for row in rows:
            planned = self.plan_row(row, found)
            self.keep(planned)

    def keep(self, row: RowPlan | None) -> None:
        if row is None:
            self.counts[UNCHANGED] += 1
            return
        self.counts[row.outcome] += 1
        # Unchanged rows are left out: one that became changed (or the
        # reverse) still changes the digest, through its line number.
        self.digest.update(
            repr(
                (
                    row.line,
                    row.sku,
                    row.outcome,
                    sorted(row.changes.items()),
                    row.reasons,
                )
            ).encode()
        )
        self.digest.update(b"\n")
        if row.outcome == REFUSED:
            if len(self.refusals) < SHOWN_REFUSALS:
                self.refusals.append(row)
            return
        if len(self.listed) < SHOWN_ROWS:
            self.listed.append(row)
        if self.keep_writes and row.writes:
            self.writes.append(row)

    def refuse_unstorable(self, row: Row, shown: str) -> RowPlan:
        """A row whose SKU the database could not store (a NUL, too long): it
        is never looked up, and the rules refuse it as a new product's row,
        in the form's words, whatever the user's rights."""
        _cleaned, reasons = self.rules.clean(self.texts(row, self.defaults))
        return RowPlan(
            row.line,
            shown,
            REFUSED,
            reasons=reasons
            or [_("SKU: This text holds characters the database cannot store.")],
        )

    def texts(self, row: Row, before: dict[str, Any]) -> dict[str, str]:
        """What the product form would be given: the row's cells, and the
        product's (or a new product's) values for the columns it leaves out."""
        values = row.values
        return {
            name: values[name] if name in values else cell_text(before[name])
            for name in self.rules.names
        }

    def plan_row(self, row: Row, found: dict[str, tuple[Any, ...]]) -> RowPlan | None:
        """The row's plan, or None for an unchanged row."""
        sku = _sku(row)
        shown = shown_text(sku)
        if row.problem:
            return RowPlan(row.line, shown, REFUSED, reasons=[row.problem])
        if not sku:
            return RowPlan(
                row.line, shown, SKIPPED, reasons=[_("No SKU: not matched.")]
            )
        repeat = self.repeats.get(sku)
        if repeat is not None:
            return RowPlan(
                row.line,
                shown,
                REFUSED,
                reasons=[_repeat_reason(shown, row.line, repeat)],
            )
        current = found.get(sku)
        if current is None and not is_storable(sku, _SKU_MAX_LENGTH):
            return self.refuse_unstorable(row, shown)
        if current is None and not self.rights.add:
            return RowPlan(
                row.line, shown, REFUSED, reasons=[_("You may not add products.")]
            )
        if current is not None and not self.rights.change:
            return RowPlan(
                row.line, shown, REFUSED, reasons=[_("You may not change products.")]
            )
        # Columns the file leaves out keep their values, or get the defaults.
        if current is None:
            before = self.defaults
        else:
            before = dict(zip(EDITABLE_FIELDS, current[2:], strict=True))
        cleaned, reasons = self.rules.clean(self.texts(row, before))
        if reasons:
            return RowPlan(row.line, shown, REFUSED, reasons=reasons)
        if current is None:
            written = {
                name: cleaned[name]
                for name in EDITABLE_FIELDS
                if name in cleaned and cleaned[name].value not in (None, "")
            }
            return RowPlan(
                row.line,
                shown,
                CREATED,
                {name: (None, new.logged) for name, new in written.items()},
                values=self.for_writing(written),
            )
        written = {
            name: new for name, new in cleaned.items() if new.value != before[name]
        }
        if not written:
            return None
        return RowPlan(
            row.line,
            shown,
            CHANGED,
            {
                name: (logged_value(name, before[name]), new.logged)
                for name, new in written.items()
            },
            pk=current[0],
            version=current[1],
            values=self.for_writing(written),
        )

    def for_writing(self, cleaned: dict[str, Cleaned]) -> dict[str, Any] | None:
        """The values the apply writes; a preview keeps none."""
        if not self.keep_writes:
            return None
        return {name: new.value for name, new in cleaned.items()}


def _repeat_reason(shown: str, line: int, repeat: _Repeat) -> str:
    """Bounded whatever the number of lines: the first line names the next,
    every later line names the first."""
    if line != repeat.first:
        return _("SKU “%(sku)s” is already on line %(line)s.") % {
            "sku": shown,
            "line": repeat.first,
        }
    others = repeat.lines - 1
    return ngettext(
        "SKU “%(sku)s” appears again on line %(line)s.",
        "SKU “%(sku)s” appears again on %(count)s more lines, from line %(line)s.",
        others,
    ) % {"sku": shown, "line": repeat.second, "count": f"{others:,}"}


def _products(skus: Iterable[str]) -> dict[str, tuple[Any, ...]]:
    """``(pk, version, *EDITABLE_FIELDS)`` of the products with these SKUs, in
    one query; SKUs the database could not store are not asked for."""
    wanted = [sku for sku in skus if sku and is_storable(sku, _SKU_MAX_LENGTH)]
    if not wanted:
        return {}
    found = Product.objects.filter(sku__in=wanted).values_list(
        "pk", "version", *EDITABLE_FIELDS
    )
    position = 2 + EDITABLE_FIELDS.index(KEY_COLUMN)
    return {values[position]: values for values in found}


def _default(name: str) -> Any:
    return Product._meta.get_field(name).get_default()  # type: ignore[union-attr]
