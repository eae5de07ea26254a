"""``manage.py shop_manager_relay [--once]``: deliver the change log to the
webhook endpoints (docs/webhooks.md)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Deliver product events to the webhook endpoints until SIGTERM "
        "(or, with --once, until nothing is pending)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Deliver what is pending, then exit.",
        )

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        from shop_manager.webhooks.relay import Relay

        relay = Relay(once=once)
        self.stdout.write(f"Webhook relay {relay.owner} started.")
        asyncio.run(self._run(relay))
        self.stdout.write("Webhook relay stopped.")

    async def _run(self, relay: Any) -> None:
        loop = asyncio.get_running_loop()
        # SIGTERM (and Ctrl-C) let the deliveries in flight finish and save.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, relay.stop)
        try:
            await relay.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
