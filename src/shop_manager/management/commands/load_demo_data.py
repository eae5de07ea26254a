"""``manage.py load_demo_data``: demo products, and with ``--actor`` a recent
history of changes by those people (who must exist: the package never creates
users; see the example project's ``create_demo_users``)."""

from __future__ import annotations

import random
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop_manager.demo_data import (
    CATALOGUE,
    history_start,
    load_catalogue,
    load_generated,
)
from shop_manager.models import Product

BATCH_SIZE = 1000


class Command(BaseCommand):
    help = (
        "Load demo products (and their change-log entries). With --actor, also "
        "a recent history of changes made by those existing users."
    )

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
        parser.add_argument(
            "--actor",
            action="append",
            default=[],
            dest="actors",
            metavar="USERNAME",
            help="An existing user who made the demo history's changes; repeat "
            "for several. Without it, products are loaded with no history.",
        )
        parser.add_argument(
            "--changes",
            type=int,
            default=40,
            help="Changes in the history (default 40; only with --actor).",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=14,
            help="Days the history goes back (default 14; only with --actor).",
        )

    def handle(
        self,
        *args: Any,
        products: int,
        seed: int | None,
        if_empty: bool,
        actors: list[str],
        changes: int,
        days: int,
        **options: Any,
    ) -> None:
        if products < 0:
            raise CommandError("--products must be 0 or more.")
        if changes < 0 or days < 1:
            raise CommandError("--changes must be 0 or more and --days 1 or more.")
        people = [self.user(name) for name in actors]
        if if_empty and Product.objects.exists():
            self.stdout.write(
                "Products already loaded; skipping (drop --if-empty to add more)."
            )
            products = 0
        rng = random.Random(seed)
        from_catalogue = min(products, len(CATALOGUE))
        # With a history, every product exists when it begins, and the log's
        # ids follow time: the made-up products first, dated then.
        start = history_start(days) if people else None
        generated = load_generated(
            products - from_catalogue,
            rng=rng,
            actor=people[0] if people else None,
            when=start,
            progress=self.progress if products > BATCH_SIZE else None,
        )
        catalogue = load_catalogue(
            from_catalogue,
            actors=people,
            changes=changes,
            start=start or history_start(days),
            rng=rng,
        )
        created = generated + len(catalogue)
        self.stdout.write(self.style.SUCCESS(f"Loaded {created:,} demo products."))
        if people and catalogue:
            self.stdout.write(
                f"With {changes} changes over the last {days} days by "
                f"{', '.join(actors)}."
            )

    def progress(self, done: int, total: int) -> None:
        self.stdout.write(f"  {done:,} / {total:,} generated products")

    def user(self, username: str) -> Any:
        User = get_user_model()
        try:
            return User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(
                f"No user {username!r}: --actor names an existing user (the "
                "example project's create_demo_users makes the demo staff)."
            ) from None
