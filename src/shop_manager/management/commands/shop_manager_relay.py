"""``manage.py shop_manager_relay [--once]``: deliver the change log to the
webhook endpoints (docs/webhooks.md)."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext, ngettext

if TYPE_CHECKING:
    from shop_manager.webhooks.relay import Relay, Totals


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
        self.stdout.write(summary(relay.totals))
        self.stdout.write("Webhook relay stopped.")

    async def _run(self, relay: Relay) -> None:
        loop = asyncio.get_running_loop()
        # SIGTERM (and Ctrl-C) let the deliveries in flight finish and save.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, relay.stop)
        try:
            await relay.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


def summary(totals: Totals) -> str:
    """What the relay did, such as "Delivered 5 events to 2 endpoints; 1
    failed attempt; 0 endpoints paused." An event sent to two endpoints
    counts twice."""
    endpoints = len(totals.endpoints)
    parts = {
        "events": ngettext("%(count)d event", "%(count)d events", totals.delivered)
        % {"count": totals.delivered},
        "endpoints": ngettext("%(count)d endpoint", "%(count)d endpoints", endpoints)
        % {"count": endpoints},
        "failed": ngettext(
            "%(count)d failed attempt", "%(count)d failed attempts", totals.failed
        )
        % {"count": totals.failed},
        "paused": ngettext(
            "%(count)d endpoint paused", "%(count)d endpoints paused", totals.paused
        )
        % {"count": totals.paused},
    }
    return (
        gettext("Delivered %(events)s to %(endpoints)s; %(failed)s; %(paused)s.")
        % parts
    )
