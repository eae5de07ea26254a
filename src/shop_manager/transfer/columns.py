"""The file's columns: the product form's fields, SKU first, named as the
model names them (``cost_price``), and how a value is written in a cell."""

from __future__ import annotations

from shop_manager.forms import input_text
from shop_manager.models import COST_FIELDS, EDITABLE_FIELDS

__all__ = ["COLUMNS", "KEY_COLUMN", "cell_text", "columns_for"]

# The column rows are matched by.
KEY_COLUMN = "sku"
COLUMNS: tuple[str, ...] = (
    KEY_COLUMN,
    *(field for field in EDITABLE_FIELDS if field != KEY_COLUMN),
)


def columns_for(*, with_costs: bool) -> tuple[str, ...]:
    """Every column, or those without the cost fields."""
    if with_costs:
        return COLUMNS
    return tuple(column for column in COLUMNS if column not in COST_FIELDS)


# A value in a cell: as the product form reads it back.
cell_text = input_text
