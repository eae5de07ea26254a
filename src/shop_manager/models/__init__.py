"""The package's own models: products (:mod:`.products`) and their change log
(:mod:`.events`).

A feature's models live in its own package (``shop_manager.webhooks.models``)
and are registered under this app by ``ShopManagerConfig.import_models()``,
when Django imports every app's models; this package imports no feature.
"""

from __future__ import annotations

from shop_manager.models.events import ProductEvent, ProductEventQuerySet
from shop_manager.models.products import (
    COST_FIELDS,
    EDITABLE_FIELDS,
    MAX_QUANTITY,
    Product,
    ProductQuerySet,
)

__all__ = [
    "COST_FIELDS",
    "EDITABLE_FIELDS",
    "MAX_QUANTITY",
    "Product",
    "ProductEvent",
    "ProductEventQuerySet",
    "ProductQuerySet",
]
