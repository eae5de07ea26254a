"""Demo products for ``manage.py load_demo_data``: a delicatessen's catalogue
and, when people are named to make them, a recent history of their changes.

The history is made backwards from the catalogue's current state (each step
says what a value was before someone changed it), then replayed forwards
through ``Product.save()`` as those people, so the change log, the product
pages and the dashboard show exactly what happened, in order: restocks,
sales down to low stock, new prices, new batches with later dates, a product
added and one discontinued. The package never creates users: the people must
exist (the example project's ``create_demo_users`` makes them).
"""

from __future__ import annotations

import datetime
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from shop_manager.changelog import acting_as, announced_together, log_created
from shop_manager.models import Product, ProductEvent
from shop_manager.slugs import next_free_slug, slug_base

__all__ = [
    "CATALOGUE",
    "Item",
    "generated_product",
    "history_start",
    "load_catalogue",
    "load_generated",
]

CENT = Decimal("0.01")


class Item(NamedTuple):
    """A catalogue entry as the shop holds it today."""

    name: str
    sku: str
    price: str
    quantity: int
    # Days from today to the expiry date; None: it does not expire.
    expires_in: int | None
    description: str = ""
    low_stock_threshold: int | None = None


# Today's state. A few are low on stock, one is sold out, a few expire within
# the default EXPIRING_SOON_DAYS (30) and one is past its date: what a shop's
# staff would find on a Monday morning.
CATALOGUE: tuple[Item, ...] = (
    Item(
        "Assam breakfast tea 250 g",
        "TEA-ASM-250",
        "6.90",
        4,
        420,
        "Malty and strong; made for milk.",
    ),
    Item(
        "Arabica espresso beans 1 kg",
        "COF-ESP-1000",
        "24.50",
        0,
        180,
        "Dark roast, chocolate and hazelnut notes.",
    ),
    Item("Greek yoghurt 500 g", "DAI-YOG-500", "3.40", 18, 4, "Strained, 10 % fat.", 8),
    Item(
        "Fresh mozzarella 125 g",
        "DAI-MOZ-125",
        "1.95",
        6,
        2,
        "Buffalo milk, in brine.",
        10,
    ),
    Item(
        "Sourdough rye loaf",
        "BAK-RYE-800",
        "5.20",
        3,
        3,
        "Baked on Tuesdays and Fridays.",
        6,
    ),
    Item(
        "Darjeeling first flush 100 g",
        "TEA-DAR-100",
        "9.80",
        22,
        540,
        "Spring picking, light and floral.",
    ),
    Item("Sencha green tea 100 g", "TEA-SEN-100", "7.40", 31, 300),
    Item("Earl Grey loose leaf 250 g", "TEA-EGR-250", "6.20", 40, 610),
    Item("Rooibos vanilla 100 g", "TEA-ROO-100", "4.90", 27, 480),
    Item("Chamomile blossoms 50 g", "TEA-CHA-50", "3.60", 15, 260),
    Item("Colombian filter coffee 500 g", "COF-COL-500", "11.90", 34, 200),
    Item("Decaf house blend 250 g", "COF-DEC-250", "7.90", 12, 160),
    Item(
        "Cold brew concentrate 1 l",
        "COF-CBR-1000",
        "8.50",
        9,
        -2,
        "Keep refrigerated once opened.",
    ),
    Item("Acacia honey 500 g", "PAN-HON-500", "9.90", 26, 720),
    Item("Wildflower honey 250 g", "PAN-HON-250", "5.70", 2, 700),
    Item("Strawberry jam 340 g", "PAN-JAM-340", "3.90", 45, 380),
    Item("Seville orange marmalade 340 g", "PAN-MAR-340", "4.20", 19, 400),
    Item(
        "Extra virgin olive oil 750 ml",
        "PAN-OIL-750",
        "14.90",
        38,
        540,
        "Cold-pressed, single estate.",
    ),
    Item("Balsamic vinegar of Modena 250 ml", "PAN-BAL-250", "8.60", 24, 900),
    Item("Sea salt flakes 250 g", "PAN-SAL-250", "4.50", 60, None),
    Item("Black peppercorns 100 g", "PAN-PEP-100", "3.80", 33, 640),
    Item("Smoked paprika 75 g", "PAN-PAP-75", "3.20", 17, 500),
    Item("Aged Gouda 400 g", "DAI-GOU-400", "8.90", 14, 45),
    Item("Mature cheddar 200 g", "DAI-CHE-200", "4.60", 21, 38),
    Item("Oat milk barista 1 l", "DAI-OAT-1000", "2.40", 72, 95),
    Item(
        "Salted butter 250 g",
        "DAI-BUT-250",
        "3.10",
        28,
        26,
        "From the dairy down the road.",
    ),
    Item("Spelt crackers 150 g", "BAK-SPE-150", "3.30", 36, 150),
    Item(
        "Butter croissants, 4 pack", "BAK-CRO-4", "4.80", 11, 1, "Baked this morning."
    ),
    Item("Oat biscuits 200 g", "BAK-OAT-200", "2.90", 44, 210),
    Item("Arborio rice 1 kg", "DRY-RIC-1000", "4.70", 30, 600),
    Item("Spaghetti no. 5 500 g", "DRY-SPA-500", "1.90", 88, 700),
    Item("Red lentils 500 g", "DRY-LEN-500", "2.60", 41, 480),
    Item("Rolled oats 1 kg", "DRY-OAT-1000", "3.50", 52, 330),
    Item("Chickpeas 400 g tin", "DRY-CHI-400", "1.40", 96, 820),
    Item("Coconut milk 400 ml", "DRY-COC-400", "2.20", 58, 640),
    Item("Dark chocolate 70 % 100 g", "SWE-DAR-100", "3.90", 63, 360),
    Item("Milk chocolate hazelnut 100 g", "SWE-HAZ-100", "3.70", 47, 330),
    Item("Salted almonds 150 g", "SWE-ALM-150", "4.40", 25, 240),
    Item("Dried apricots 200 g", "SWE-APR-200", "3.80", 20, 270),
    Item("Sparkling apple juice 750 ml", "DRI-APP-750", "4.10", 35, 300),
    Item("Elderflower cordial 500 ml", "DRI-ELD-500", "5.60", 16, 420),
    Item("Ginger beer 330 ml", "DRI-GIN-330", "1.80", 120, 390),
    Item("Still mineral water 1.5 l", "DRI-WAT-1500", "0.90", 150, 500),
    Item("Beeswax food wraps, 3 pack", "HOM-WRA-3", "12.50", 13, None),
    Item("Bamboo dish brush", "HOM-BRU-1", "6.90", 8, None),
)

# Generated past the catalogue (``--products 100000``): varied, unique names.
ADJECTIVES = (
    "Organic",
    "Classic",
    "Smoked",
    "Spiced",
    "Fresh",
    "Roasted",
    "Wild",
    "Aged",
)
GOODS = (
    "Tea",
    "Coffee",
    "Honey",
    "Olive oil",
    "Oat milk",
    "Rye bread",
    "Cheddar",
    "Jam",
)
# A product added during the history, and one taken off the shelves.
ADDED = Item(
    "Saffron threads 1 g", "PAN-SAF-1", "11.50", 10, 900, "Spanish, hand-picked."
)
DISCONTINUED = Item("Instant coffee 200 g", "COF-INS-200", "5.40", 7, 400)


def _product(item: Item, today: datetime.date, taken: set[str]) -> Product:
    max_length = Product._meta.get_field("slug").max_length or 50
    slug = next_free_slug(slug_base(item.name, max_length), taken, max_length)
    taken.add(slug)
    expiry = None
    if item.expires_in is not None:
        expiry = today + datetime.timedelta(days=item.expires_in)
    price = Decimal(item.price)
    return Product(
        name=item.name,
        slug=slug,
        sku=item.sku,
        description=item.description,
        price=price,
        cost_price=(price * Decimal("0.55")).quantize(CENT),
        quantity=item.quantity,
        low_stock_threshold=item.low_stock_threshold,
        expiry_date=expiry,
        supplier_number=f"SUP-{1000 + zlib.crc32(item.sku.encode()) % 9000}",
    )


def generated_product(rng: random.Random, taken: set[str]) -> Product:
    """A product with a made-up name, for catalogues past the demo's own."""
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(GOODS).lower()} {rng.randint(1, 999)}"
    max_length = Product._meta.get_field("slug").max_length or 50
    slug = next_free_slug(slug_base(name, max_length), taken, max_length)
    taken.add(slug)
    today = timezone.localdate()
    roll = rng.random()
    if roll < 0.1:
        expiry: datetime.date | None = today - datetime.timedelta(
            days=rng.randint(1, 60)
        )
    elif roll < 0.25:
        expiry = today + datetime.timedelta(days=rng.randint(0, 30))
    elif roll < 0.7:
        expiry = today + datetime.timedelta(days=rng.randint(31, 720))
    else:
        expiry = None  # Does not expire.
    price = Decimal(rng.randint(99, 4999)) / 100
    return Product(
        name=name,
        slug=slug,
        sku=f"SKU-{slug.upper()}"[:64],
        supplier_number=f"SUP-{rng.randint(100, 999)}",
        description=f"Demo product: {name}.",
        price=price,
        cost_price=(price * Decimal("0.6")).quantize(CENT),
        quantity=rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 40, 75, 150]),
        low_stock_threshold=rng.choice([None, None, None, 10]),
        expiry_date=expiry,
    )


def load_generated(
    count: int,
    *,
    rng: random.Random,
    actor: Any = None,
    when: datetime.datetime | None = None,
    batch_size: int = 1000,
    progress: Any = None,
) -> int:
    """``count`` made-up products in bulk, created by ``actor`` (or nobody),
    dated ``when`` (or now); ``progress(done, count)`` after each batch."""
    taken = set(Product.objects.values_list("slug", flat=True))
    done = 0
    while done < count:
        size = min(batch_size, count - done)
        batch = [generated_product(rng, taken) for _ in range(size)]
        # bulk_create sends no signals: log the batch in the same transaction.
        with transaction.atomic(), acting_as(actor):
            created = Product.objects.bulk_create(batch)
            events = log_created(created)
            if when is not None:
                Product.objects.filter(pk__in=[p.pk for p in created]).update(
                    created=when, modified=when
                )
                ProductEvent.objects.filter(pk__in=[e.pk for e in events]).update(
                    created=when
                )
        done += size
        if progress is not None:
            progress(done, count)
    return done


def history_start(days: int) -> datetime.datetime:
    """When a history of ``days`` days begins: the shop's products exist then."""
    return timezone.now() - datetime.timedelta(days=days)


# A step of the history: at ``when``, ``actor`` changed ``fields`` of the
# product at index ``target`` (of the catalogue's products) to these values.
@dataclass
class Step:
    when: datetime.datetime
    actor: Any
    target: int
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)


def load_catalogue(
    count: int,
    *,
    actors: Sequence[Any],
    changes: int,
    start: datetime.datetime,
    rng: random.Random,
) -> list[Product]:
    """The first ``count`` catalogue products the shop lacks (by SKU), with
    ``changes`` edits by ``actors`` from ``start`` until now, a product added
    and one discontinued meanwhile (no history without actors).

    Everything happens in one transaction and reaches the notifiers as one
    bulk notice after it commits.
    """
    today = timezone.localdate()
    taken = set(Product.objects.values_list("slug", flat=True))
    skus = {
        sku
        for sku in Product.objects.exclude(sku=None).values_list("sku", flat=True)
        if sku is not None
    }
    items = [item for item in CATALOGUE if item.sku not in skus][:count]
    final = [_product(item, today, taken) for item in items]
    if not actors or not final:
        with transaction.atomic(), announced_together():
            log_created(Product.objects.bulk_create(final))
        return final
    now = timezone.now()
    steps = _history(final, actors, changes, start, now, rng)
    timeline: list[tuple[datetime.datetime, int, Any]] = [
        (start, 0, partial(_create, product, actors[0], start)) for product in final
    ]
    timeline += [(step.when, 1, partial(_change, final, step)) for step in steps]
    timeline += _comings_and_goings(today, taken, skus, actors, start, now, rng)
    # In time order (the log's ids follow it, as they would have).
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    with transaction.atomic(), announced_together():
        for _when, _order, act in timeline:
            act()
    return final


def _history(
    final: list[Product],
    actors: Sequence[Any],
    changes: int,
    start: datetime.datetime,
    now: datetime.datetime,
    rng: random.Random,
) -> list[Step]:
    """``changes`` steps ending in the products' ``final`` state, oldest
    first. Made newest first: each step turns the current values back into
    what they were before it, so replaying them forwards ends where the
    catalogue says; the products are left as they were at ``start``."""
    span = (now - start).total_seconds()
    # More changes lately than a fortnight ago; a few in the last hours (the
    # dashboard's "changes today"), none in the last minutes.
    recent = min(changes, max(3, changes // 10))
    ages = [rng.uniform(420, 3 * 3600) for _ in range(recent)] + [
        min(rng.expovariate(3 / span), span * 0.98) for _ in range(changes - recent)
    ]
    moments = sorted(now - datetime.timedelta(seconds=max(420.0, age)) for age in ages)
    state: list[dict[str, Any]] = [
        {"quantity": p.quantity, "price": p.price, "expiry_date": p.expiry_date}
        for p in final
    ]
    # The products whose story is worth telling come first in the catalogue:
    # they get most of the changes.
    weights = [6 if index < 5 else 1 for index in range(len(final))]
    steps: list[Step] = []
    for moment in reversed(moments):
        target = rng.choices(range(len(final)), weights)[0]
        kind, before = _undo(state[target], moment.date(), rng)
        after = {name: state[target][name] for name in before}
        state[target].update(before)
        steps.append(Step(moment, rng.choice(actors), target, kind, after))
    for product, values in zip(final, state, strict=True):
        product.quantity = values["quantity"]
        product.price = values["price"]
        product.expiry_date = values["expiry_date"]
    steps.reverse()
    return steps


def _undo(
    values: dict[str, Any], day: datetime.date, rng: random.Random
) -> tuple[str, dict[str, Any]]:
    """A change that could have led to ``values``, as the values before it."""
    quantity, price, expiry = values["quantity"], values["price"], values["expiry_date"]
    roll = rng.random()
    if roll < 0.55 or quantity < 6:
        # Sold: there was more before.
        return "sale", {"quantity": quantity + rng.randint(2, 24)}
    if roll < 0.75:
        # A delivery: there was less before.
        return "restock", {"quantity": rng.randint(0, max(0, quantity // 4))}
    if roll < 0.9 or expiry is None:
        # A new price: a few percent up (the usual direction).
        factor = Decimal(1) + Decimal(rng.randint(4, 12)) / 100
        return "price", {"price": max(CENT, (price / factor).quantize(Decimal("0.1")))}
    # A new batch: the old one expired sooner, and there was less of it.
    earlier = expiry - datetime.timedelta(days=rng.randint(20, 90))
    return "batch", {
        "expiry_date": max(earlier, day + datetime.timedelta(days=1)),
        "quantity": rng.randint(0, max(0, quantity // 5)),
    }


def _create(product: Product, actor: Any, when: datetime.datetime) -> None:
    with acting_as(actor):
        product.save()
    _date(product, when, created=True)


def _change(products: list[Product], step: Step) -> None:
    product = products[step.target]
    for name, value in step.fields.items():
        setattr(product, name, value)
    with acting_as(step.actor):
        product.save()
    _date(product, step.when)


def _delete(product: Product, actor: Any, when: datetime.datetime) -> None:
    pk = product.pk
    with acting_as(actor):
        product.delete()
    _date_latest_event(pk, when)


def _date(product: Product, when: datetime.datetime, *, created: bool = False) -> None:
    """Move the product's last change, and the log row just written for it,
    to ``when``: a demo's history happened over days, not in one second."""
    _date_latest_event(product.pk, when)
    dates = {"modified": when, **({"created": when} if created else {})}
    Product.objects.filter(pk=product.pk).update(**dates)
    product.modified = when


def _date_latest_event(product_pk: int, when: datetime.datetime) -> None:
    latest = (
        ProductEvent.objects.filter(product_pk=product_pk)
        .order_by("-id")
        .values_list("pk", flat=True)[:1]
    )
    ProductEvent.objects.filter(pk__in=list(latest)).update(created=when)


def _comings_and_goings(
    today: datetime.date,
    taken: set[str],
    skus: set[str],
    actors: Sequence[Any],
    start: datetime.datetime,
    now: datetime.datetime,
    rng: random.Random,
) -> list[tuple[datetime.datetime, int, Any]]:
    """A product taken off the shelves a few days ago, and one added since;
    none whose SKU the shop already has."""
    span = now - start
    timeline: list[tuple[datetime.datetime, int, Any]] = []
    if DISCONTINUED.sku not in skus:
        gone = _product(DISCONTINUED, today, taken)
        timeline.append((start, 0, partial(_create, gone, actors[0], start)))
        when = start + span * 0.55
        timeline.append((when, 1, partial(_delete, gone, rng.choice(actors), when)))
    if ADDED.sku not in skus:
        when = start + span * 0.8
        added = _product(ADDED, today, taken)
        timeline.append((when, 1, partial(_create, added, rng.choice(actors), when)))
    return timeline
