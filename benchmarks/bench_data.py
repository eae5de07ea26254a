"""The bench's products, loaded inside the example project (``manage.py shell``).

Bulk, so 10,000 products load in seconds, yet the change log stays what the
package would have written: one ``created`` event per product (through
``log_created``, as the docs tell bulk loaders to do), and for the product
with a long history one ``updated`` event per version it went through.
"""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shop_manager.changelog import log_created
from shop_manager.changelog.writer import log_events
from shop_manager.models import Product, ProductEvent
from shop_manager.slugs import SLUG_MAX_LENGTH, slug_base

__all__ = ["load_products"]

CHUNK = 1000


def load_products(
    count: int, *, history: int = 0, log_creation: bool = True
) -> list[str]:
    """``count`` products named "Bench product <n>" (slug ``bench-product-<n>``)
    with varied prices, quantities, SKUs and expiry dates; the first one then
    changes ``history`` times. Returns the slugs in order. Without
    ``log_creation`` the log holds only that history (the in-process pages
    bench: 10,000 products, 2,000 change-log rows)."""
    today = timezone.localdate()
    slugs: list[str] = []
    with transaction.atomic():
        for start in range(0, count, CHUNK):
            products = [
                Product(
                    name=f"Bench product {n}",
                    slug=slug_base(f"Bench product {n}", SLUG_MAX_LENGTH),
                    sku=f"BP-{n:05d}",
                    description=f"Product number {n} of the benchmark.",
                    price=Decimal(n % 997) + Decimal("0.99"),
                    cost_price=Decimal(n % 500) + Decimal("0.50"),
                    quantity=n % 50,
                    expiry_date=today + datetime.timedelta(days=n % 400 - 30)
                    if n % 3
                    else None,
                    supplier_number=f"S-{n % 211:03d}",
                )
                for n in range(start, min(count, start + CHUNK))
            ]
            products = Product.objects.bulk_create(products)
            if log_creation:
                log_created(products)
            slugs += [product.slug for product in products]
        if history and count:
            _change_often(Product.objects.get(slug=slugs[0]), history)
    return slugs


def _change_often(product: Product, times: int) -> None:
    """``times`` quantity changes, logged one version after another, as a
    product edited all day long would have."""
    entries = []
    quantity = product.quantity
    for _ in range(times):
        product.version += 1
        entries.append(
            (
                copy.copy(product),
                ProductEvent.Action.UPDATED,
                {"quantity": (quantity, quantity + 1)},
            )
        )
        quantity += 1
    for start in range(0, len(entries), CHUNK):
        log_events(entries[start : start + CHUNK])
    Product.objects.filter(pk=product.pk).update(
        quantity=quantity, version=product.version
    )
