from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext, ngettext

from shop_manager.changelog.rendering import action_label, describe
from shop_manager.notifiers.base import BaseNotifier

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

__all__ = ["LoggingNotifier"]


class LoggingNotifier(BaseNotifier):
    """Writes each event to a logger, worded in the active language (the
    site's, as every backend runs: see :func:`shop_manager.notifiers.notify`).

    OPTIONS: ``LOGGER`` (name), ``LEVEL``, ``MAX_BATCH`` (a larger batch, as
    from a bulk load, is one summary line; the log itself has every event).
    """

    accepted_options: ClassVar[frozenset[str] | None] = frozenset(
        {"LOGGER", "LEVEL", "MAX_BATCH"}
    )

    def __init__(
        self, alias: str = "default", options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(alias, options)
        self.logger = logging.getLogger(
            self.options.get("LOGGER", "shop_manager.events")
        )
        self.max_batch: int = self.options.get("MAX_BATCH", 50)
        level = self.options.get("LEVEL", logging.INFO)
        self.level: int = (
            logging.getLevelName(level) if isinstance(level, str) else level
        )

    def send(self, event: ProductEvent) -> None:
        by = (
            gettext("by %(actor)s") % {"actor": event.actor_name}
            if event.actor_name
            else gettext("by nobody")
        )
        self.logger.log(
            self.level,
            "#%s %s (%s)",
            event.pk,
            describe(event),
            by,
            extra={"product_event": event.pk, "product_pk": event.product_pk},
        )

    def send_many(self, events: Sequence[ProductEvent]) -> None:
        if len(events) <= self.max_batch:
            super().send_many(events)
            return
        self.send_bulk(events)

    def send_bulk(self, events: Sequence[ProductEvent]) -> None:
        """One line for the whole batch: its id range and what it did."""
        if not events:
            return
        counts = Counter(event.action for event in events)
        total = len(events)
        if len(counts) == 1:
            what = ngettext(
                "%(count)s product %(action)s in bulk",
                "%(count)s products %(action)s in bulk",
                total,
            ) % {"count": total, "action": action_label(events[0].action)}
        else:
            actions = ", ".join(
                f"{count} {action_label(action)}"
                for action, count in sorted(counts.items())
            )
            what = ngettext(
                "%(count)s product change (%(actions)s) in bulk",
                "%(count)s product changes (%(actions)s) in bulk",
                total,
            ) % {"count": total, "actions": actions}
        self.logger.log(
            self.level,
            "#%s-#%s %s",
            events[0].pk,
            events[-1].pk,
            what,
            extra={"product_events": (events[0].pk, events[-1].pk)},
        )
