from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

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

    #: The ``OPTIONS`` keys this backend reads. A system check reports any
    #: other key, so a misspelt option fails loudly instead of being ignored.
    #: ``None`` (the default) means the backend does not say: nothing is checked.
    accepted_options: ClassVar[frozenset[str] | None] = None

    def __init__(
        self, alias: str = "default", options: dict[str, Any] | None = None
    ) -> None:
        self.alias = alias
        self.options = options or {}

    @property
    def feeds_dashboard(self) -> bool:
        """Whether live dashboards hear what this backend sends."""
        return False

    def send(self, event: ProductEvent) -> None:
        raise NotImplementedError

    def send_many(self, events: Sequence[ProductEvent]) -> None:
        """Send several events, oldest first. Override to batch."""
        for event in events:
            self.send(event)

    def send_bulk(self, events: Sequence[ProductEvent]) -> None:
        """Announce a bulk change (an import) with one bounded notice.

        The default sends each event (``send_many``); backends that reach
        people override it with one summary, since the log has every event.
        """
        self.send_many(events)
