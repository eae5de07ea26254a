"""Writing many products in few queries: new ones with ``bulk_create()``,
changed ones with one ``UPDATE`` per batch, slugs as ``save()`` makes them.

Measured on 100,000 rows (benchmarks/README.md, the transfer section), two
costs dwarfed the database's own work, and this module avoids both:

- ``Product.__init__``: django-model-utils' ``FieldTracker`` snapshots every
  tracked field of each instance it makes (0.1 to 0.25 ms a product), for diffs
  a bulk write never asks for. :func:`unsaved_product` makes the instance
  ``bulk_create()`` and the change log need without it.
- ``bulk_update()``: it builds a ``CASE WHEN pk = … THEN …`` expression per
  product and field and resolves each one, about half of the whole apply's
  time. On PostgreSQL :func:`update_products` sends one ``UPDATE … FROM
  UNNEST(…)`` per batch instead, one array per column as ``bulk_create()``
  does there; other databases keep ``bulk_update()``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models.base import ModelState

from shop_manager.copying import can_copy, copy_insert
from shop_manager.models import Product
from shop_manager.slugs import (
    RESERVED_SLUGS,
    SLUG_MAX_LENGTH,
    next_free_slug,
    slug_base,
)

__all__ = [
    "assign_slugs",
    "insert_products",
    "new_product_values",
    "unsaved_product",
    "update_products",
]

# Products per UPDATE statement.
UPDATE_BATCH = 1000
# bulk_update()'s CASE costs PostgreSQL the square of its batch; elsewhere
# it stays small.
BULK_UPDATE_BATCH = 100
# Slugs looked up per IN query, and distinct slug bases per regex query.
SLUG_LOOKUP_BATCH = 2000
SLUG_QUERY_BASES = 200


def unsaved_product(values: dict[str, Any]) -> Product:
    """A product holding ``values`` (by attribute name, nothing else), made
    without ``Model.__init__`` and so without the field tracker's snapshot.

    Fit for ``bulk_create()`` (given :func:`new_product_values` first),
    ``bulk_update()`` and the change log; never for ``save()``, which would
    find no tracker to diff with.
    """
    product = Product.__new__(Product)
    product._state = ModelState()
    product.__dict__.update(values)
    return product


def new_product_values() -> dict[str, Any]:
    """Every field's default, by attribute name, as ``Product()`` sets them."""
    return {
        field.attname: field.get_default() for field in Product._meta.concrete_fields
    }


def insert_products(products: Sequence[Product]) -> None:
    """Insert new products (slugs assigned): with ``COPY`` on PostgreSQL
    (:mod:`shop_manager.copying`), ``bulk_create()`` elsewhere or for a few."""
    using = router.db_for_write(Product)
    if can_copy(using, len(products)):
        copy_insert(products, using=using)
    else:
        Product.objects.using(using).bulk_create(products)


def update_products(updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Set each ``(pk, {field: value})``'s fields; every product in
    ``updates`` must set the same fields."""
    if not updates:
        return
    fields = list(updates[0][1])
    using = router.db_for_write(Product)
    if connections[using].vendor != "postgresql":
        products = [unsaved_product({"id": pk, **values}) for pk, values in updates]
        Product.objects.using(using).bulk_update(
            products, fields, batch_size=BULK_UPDATE_BATCH
        )
        return
    connection = connections[using]
    by_name = {field.name: field for field in Product._meta.concrete_fields}
    model_fields = [by_name["id"], *(by_name[name] for name in fields)]
    quote = connection.ops.quote_name
    table = quote(Product._meta.db_table)
    names = [quote(field.column or field.attname) for field in model_fields]
    # One array per column, as bulk_create() sends on PostgreSQL: a short
    # statement whatever the batch. Types without their length (varchar[]),
    # as there; the columns still refuse what they cannot hold.
    arrays = ", ".join(
        f"(%s)::{(field.db_type(connection) or '').split('(')[0]}[]"
        for field in model_fields
    )
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    sql = (
        f"UPDATE {table} SET {assignments} "
        f"FROM UNNEST({arrays}) AS v ({', '.join(names)}) "
        f"WHERE {table}.{names[0]} = v.{names[0]}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(updates), UPDATE_BATCH):
            chunk = updates[start : start + UPDATE_BATCH]
            params = [[key for key, _values in chunk]]
            params += [
                [
                    field.get_db_prep_save(values[field.name], connection)
                    for _key, values in chunk
                ]
                for field in model_fields[1:]
            ]
            cursor.execute(sql, params)


def assign_slugs(products: list[Product]) -> None:
    """Give new products the slugs ``Product.save()`` would, in a few queries.

    A name's base slug is free unless a product has it, which an indexed
    ``IN`` finds; only bases already taken, reserved, or shared by several
    new products need their numbered variants (``tea-2``…) looked up, with a
    regex over ``SLUG_QUERY_BASES`` bases at a time.
    """
    bases = [slug_base(product.name, SLUG_MAX_LENGTH) for product in products]
    distinct = sorted(set(bases))
    taken: set[str] = set()
    for start in range(0, len(distinct), SLUG_LOOKUP_BATCH):
        taken.update(
            Product.objects.filter(
                slug__in=distinct[start : start + SLUG_LOOKUP_BATCH]
            ).values_list("slug", flat=True)
        )
    repeated = {base for base, count in Counter(bases).items() if count > 1}
    crowded = sorted(repeated | ((taken | RESERVED_SLUGS) & set(distinct)))
    for start in range(0, len(crowded), SLUG_QUERY_BASES):
        chunk = crowded[start : start + SLUG_QUERY_BASES]
        pattern = "^(" + "|".join(re.escape(base) for base in chunk) + ")(-[0-9]+)?$"
        taken.update(
            Product.objects.filter(slug__regex=pattern).values_list("slug", flat=True)
        )
    for product, base in zip(products, bases, strict=True):
        if base in taken or base in RESERVED_SLUGS:
            # next_free_slug() copies the set it is given: only for a base in
            # use, so a batch of free names costs no copy.
            product.slug = next_free_slug(base, taken, SLUG_MAX_LENGTH)
        else:
            product.slug = base
        taken.add(product.slug)
