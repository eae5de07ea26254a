"""What the product edit form posts, for tests of every package (one copy)."""

from __future__ import annotations

import datetime
from typing import Any

from shop_manager.forms import ProductForm
from shop_manager.models import Product

__all__ = ["product_form"]


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
