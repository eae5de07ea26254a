from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

__all__ = ["BaseNotifier"]


class BaseNotifier:
    """Base class for notifier backends.

    Subclasses implement :meth:`send`. It runs after the change committed, in
    the request that made it: keep it quick and bounded (use a timeout for any
    network call). An exception is logged by the caller and never reaches the
    user; the event stays in the change log, so dashboards still replay it.

    ``OPTIONS`` from the backend's settings arrive as ``options``.
    """

    def __init__(
        self, alias: str = "default", options: dict[str, Any] | None = None
    ) -> None:
        self.alias = alias
        self.options = options or {}

    def send(self, event: ProductEvent) -> None:
        raise NotImplementedError

    def send_many(self, events: Sequence[ProductEvent]) -> None:
        """Send several events, oldest first. Override to batch."""
        for event in events:
            self.send(event)
