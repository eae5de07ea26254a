"""Notifier backends that record or fail, for tests (named by dotted path in
``SHOP_MANAGER["NOTIFIERS"]``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from shop_manager.models import ProductEvent
from shop_manager.notifiers.base import BaseNotifier

__all__ = ["RAISING", "RECORDING", "RaisingNotifier", "RecordingNotifier"]

RAISING = {"BACKEND": "tests.helpers.notifiers.RaisingNotifier"}
RECORDING = {"BACKEND": "tests.helpers.notifiers.RecordingNotifier"}


class RaisingNotifier(BaseNotifier):
    """A webhook that always fails."""

    def send(self, event: ProductEvent) -> None:
        raise ConnectionError("webhook is down")


class RecordingNotifier(BaseNotifier):
    """Keeps each call it gets, as ("send_many" | "send_bulk", [event ids])."""

    calls: ClassVar[list[tuple[str, list[int]]]] = []

    def send(self, event: ProductEvent) -> None:
        self.send_many([event])

    def send_many(self, events: Sequence[ProductEvent]) -> None:
        self.calls.append(("send_many", [event.pk for event in events]))

    def send_bulk(self, events: Sequence[ProductEvent]) -> None:
        self.calls.append(("send_bulk", [event.pk for event in events]))
