"""The package's own models: products (:mod:`.products`), their change log
(:mod:`.events`) and the stock alerts someone dismissed (:mod:`.alerts`).

A feature's models live in its own package (``shop_manager.webhooks.models``)
and are registered under this app by ``ShopManagerConfig.import_models()``,
when Django imports every app's models; this package imports no feature.
"""

from __future__ import annotations

from shop_manager.models.alerts import AlertDismissal
from shop_manager.models.events import ProductEvent, ProductEventQuerySet
from shop_manager.models.products import (
    COST_FIELDS,
    EDITABLE_FIELDS,
    MAX_QUANTITY,
    STOCK_CONDITIONS,
    Product,
    ProductQuerySet,
    stock_conditions,
)

__all__ = [
    "COST_FIELDS",
    "EDITABLE_FIELDS",
    "MAX_QUANTITY",
    "STOCK_CONDITIONS",
    "AlertDismissal",
    "Product",
    "ProductEvent",
    "ProductEventQuerySet",
    "ProductQuerySet",
    "stock_conditions",
]
