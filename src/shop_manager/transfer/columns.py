"""The file's columns: the product form's fields, SKU first, named as the
model names them (``cost_price``), and how a value is written in a cell."""

from __future__ import annotations

import datetime
from typing import Any

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


def cell_text(value: Any) -> str:
    """A value as the product form reads it back: empty for None, ISO dates,
    decimals exactly as stored ("3.50")."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
