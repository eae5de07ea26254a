from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from shop_manager import notifiers
from shop_manager.notifiers.base import BaseNotifier

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

__all__ = ["LocmemNotifier"]


class LocmemNotifier(BaseNotifier):
    """Keeps sent events in ``shop_manager.notifiers.outbox``, for tests."""

    accepted_options: ClassVar[frozenset[str] | None] = frozenset()

    def send(self, event: ProductEvent) -> None:
        notifiers.outbox.append(event)
