"""Products made from sync and async tests, what the product form posts, and
names and values that probe the pages."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from channels.db import database_sync_to_async

from shop_manager.forms import ProductForm
from shop_manager.models import Product, ProductEvent

__all__ = [
    "HOSTILE_NAMES",
    "VALID_PRODUCT",
    "create",
    "create_product",
    "event_ids",
    "product",
    "product_form",
    "product_rows",
    "snapshot",
    "update",
]

# Names that would run script or template code if a page failed to escape them.
HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "</script><script>alert(1)</script>",
)

# What a product form posts for a valid new product.
VALID_PRODUCT = {
    "name": "Kettle",
    "price": "20.00",
    "cost_price": "9.00",
    "quantity": "2",
}


def product(name: str = "Tea", **fields: Any) -> Product:
    fields.setdefault("price", Decimal("3.50"))
    fields.setdefault("quantity", 4)
    return Product.objects.create(name=name, **fields)


# From async tests.
create = database_sync_to_async(product)


@database_sync_to_async
def create_product(name: str = "Tea") -> Product:
    return product(name)


@database_sync_to_async
def update(product: Product, **fields: Any) -> None:
    for field, value in fields.items():
        setattr(product, field, value)
    product.save()


@database_sync_to_async
def event_ids() -> list[int]:
    return list(ProductEvent.objects.values_list("id", flat=True).order_by("id"))


@database_sync_to_async
def product_rows() -> list[tuple[Any, ...]]:
    return list(Product.objects.values_list("pk", "name", "quantity", "version"))


def snapshot() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every product and change-log row, to compare before and after a request."""
    return (
        list(Product.objects.order_by("pk").values()),
        list(ProductEvent.objects.order_by("pk").values()),
    )


def product_form(product: Product, **changes: Any) -> dict[str, Any]:
    """The edit form's fields for ``product`` as a browser posts them (every
    field the form has, the ``version`` it started from), with ``changes``
    typed in."""
    form = ProductForm(instance=product)
    data = {name: _posted(form[name].value()) for name in form.fields}
    return {**data, **changes}


def _posted(value: Any) -> Any:
    if value is None:
        return ""  # An empty input posts the empty string.
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
