"""The notifier backend that feeds the live dashboards:
``shop_manager.live.notifier.ChannelLayerNotifier``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ImproperlyConfigured

from shop_manager.conf import get_config
from shop_manager.live import layer
from shop_manager.live.groups import DASHBOARD_GROUP
from shop_manager.live.models import AccessGeneration
from shop_manager.live.protocol import bulk_message, event_message
from shop_manager.notifiers.base import BaseNotifier

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

__all__ = ["ChannelLayerNotifier"]


class ChannelLayerNotifier(BaseNotifier):
    """One ``group_send`` per event to the dashboard group, on the channel
    layer ``SHOP_MANAGER["CHANNEL_LAYER"]``: where every server process's
    fan-out (:mod:`shop_manager.live.fanout`) listens.

    OPTIONS: ``TIMEOUT`` (seconds for the whole batch, so a hung Redis cannot
    hold the request), ``MAX_BATCH``
    (more events than this at once, as from ``log_created()``, are announced
    with one "fetch up to id N" hint instead of one message each).
    The message carries the event already serialised, so the fan-out forwards
    it as it is instead of encoding it once per socket; when the change
    touched a cost field it also carries ``redacted``, the same frame without
    it, for watchers who may not see costs (:func:`.protocol.event_message`).

    Each message also carries the access generation, read once per send,
    after the events committed (one query): a process delivers them only to
    sockets it has checked since every revocation that returned before
    (:mod:`shop_manager.live.barrier`).
    """

    accepted_options: ClassVar[frozenset[str] | None] = frozenset(
        {"TIMEOUT", "MAX_BATCH"}
    )

    def __init__(
        self, alias: str = "default", options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(alias, options)
        self.timeout: float = self.options.get("TIMEOUT", 2.0)
        self.max_batch: int = self.options.get("MAX_BATCH", 50)

    @property
    def feeds_dashboard(self) -> bool:
        return True

    def send(self, event: ProductEvent) -> None:
        self.send_many([event])

    def send_many(self, events: Sequence[ProductEvent]) -> None:
        if len(events) > self.max_batch:
            # A bulk load: one heartbeat-style hint instead of thousands of
            # sends; dashboards fetch the range from the log in bounded batches.
            self.send_bulk(events)
            return
        generation = AccessGeneration.objects.current()
        self._send([event_message(event, generation) for event in events])

    def send_bulk(self, events: Sequence[ProductEvent]) -> None:
        """One heartbeat with the newest id, whatever the size: dashboards
        see the gap and fetch the range from the log in bounded batches."""
        if events:
            last_id = max(event.pk for event in events)
            self._send([bulk_message(last_id, AccessGeneration.objects.current())])

    def _send(self, messages: list[dict[str, Any]]) -> None:
        channel_layer = layer.get_layer()
        if channel_layer is None:
            raise ImproperlyConfigured(
                f"CHANNEL_LAYERS has no {get_config()['CHANNEL_LAYER']!r} layer "
                f"for notifier {self.alias!r}."
            )
        try:
            layer.send(channel_layer, DASHBOARD_GROUP, messages, timeout=self.timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"Notifier {self.alias!r}: {exc}") from exc
