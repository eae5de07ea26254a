"""``manage.py load_demo_data``: demo products (never users: see the example
project's ``create_demo_users``)."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from shop_manager.changelog import log_created
from shop_manager.models import Product
from shop_manager.slugs import next_free_slug, slug_base

BATCH_SIZE = 1000
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


class Command(BaseCommand):
    help = "Load demo products (and their change-log entries)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--products", type=int, default=50, help="How many products (default 50)."
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed, for repeatable data."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load products only when there are none (so `make demo` can rerun).",
        )

    def handle(
        self,
        *args: Any,
        products: int,
        seed: int | None,
        if_empty: bool,
        **options: Any,
    ) -> None:
        if products < 0:
            raise CommandError("--products must be 0 or more.")
        if if_empty and Product.objects.exists():
            self.stdout.write(
                "Products already loaded; skipping (drop --if-empty to add more)."
            )
            products = 0
        rng = random.Random(seed)
        taken = set(Product.objects.values_list("slug", flat=True))
        created = 0
        while created < products:
            size = min(BATCH_SIZE, products - created)
            batch = [self.make_product(rng, taken) for _ in range(size)]
            # bulk_create sends no signals: log the batch in the same transaction.
            with transaction.atomic():
                log_created(Product.objects.bulk_create(batch))
            created += size
            if products > BATCH_SIZE:
                self.stdout.write(f"  {created:,} / {products:,} products")
        self.stdout.write(self.style.SUCCESS(f"Loaded {created:,} demo products."))

    def make_product(self, rng: random.Random, taken: set[str]) -> Product:
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(GOODS).lower()} {rng.randint(1, 999)}"
        max_length = Product._meta.get_field("slug").max_length or 50
        slug = next_free_slug(slug_base(name, max_length), taken, max_length)
        taken.add(slug)
        today = timezone.localdate()
        expiry_roll = rng.random()
        if expiry_roll < 0.1:
            expiry = today - datetime.timedelta(days=rng.randint(1, 60))  # expired
        elif expiry_roll < 0.25:
            expiry = today + datetime.timedelta(
                days=rng.randint(0, 30)
            )  # expiring soon
        elif expiry_roll < 0.7:
            expiry = today + datetime.timedelta(days=rng.randint(31, 720))
        else:
            expiry = None  # does not expire
        price = Decimal(rng.randint(99, 4999)) / 100
        return Product(
            name=name,
            slug=slug,
            sku=f"SKU-{slug.upper()}"[:64],
            supplier_number=f"SUP-{rng.randint(100, 999)}",
            description=f"Demo product: {name}.",
            price=price,
            cost_price=(price * Decimal("0.6")).quantize(Decimal("0.01")),
            quantity=rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 40, 75, 150]),
            low_stock_threshold=rng.choice([None, None, None, 10]),
            expiry_date=expiry,
        )
