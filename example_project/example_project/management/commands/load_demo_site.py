"""``manage.py load_demo_site``: what `make demo` and `make screenshots` load:
the demo users (``create_demo_users``), then the package's demo products with
two weeks of changes made by the demo staff (``load_demo_data --actor ...``).

Like ``create_demo_users`` it runs only with DEBUG on; products are loaded
only into a site that has none, so it can run before every `make demo`.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from example_project.management.commands.create_demo_users import DEMO_STAFF
from shop_manager.demo_data import CATALOGUE


class Command(BaseCommand):
    help = "Create the demo users, then demo products with a recent history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--products",
            type=int,
            default=len(CATALOGUE),
            help=f"How many products (default {len(CATALOGUE)}, the demo catalogue).",
        )
        parser.add_argument("--seed", type=int, default=None)

    def handle(
        self, *args: Any, products: int, seed: int | None, **options: Any
    ) -> None:
        call_command("create_demo_users", stdout=self.stdout, stderr=self.stderr)
        call_command(
            "load_demo_data",
            products=products,
            seed=seed,
            if_empty=True,
            actors=list(DEMO_STAFF),
            stdout=self.stdout,
            stderr=self.stderr,
        )
