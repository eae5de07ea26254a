from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from shop_manager.changelog.rendering import has_cost_changes
from shop_manager.conf import get_config
from shop_manager.live.groups import DASHBOARD_GROUP
from shop_manager.live.protocol import event_text, heartbeat_text
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
    The message carries the event already serialised, so consumers forward it
    as it is instead of encoding it once per socket; when the change touched a
    cost field it also carries ``redacted``, the same frame without it, for
    watchers who may not see costs.
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
        messages = [_message(event) for event in events]
        async_to_sync(self._send_all)(self._layer(), messages)

    def _layer(self) -> Any:
        layer_alias = get_config()["CHANNEL_LAYER"]
        layer = get_channel_layer(layer_alias)
        if layer is None:
            raise ImproperlyConfigured(
                f"CHANNEL_LAYERS has no {layer_alias!r} layer for notifier {self.alias!r}."
            )
        return layer

    def send_bulk(self, events: Sequence[ProductEvent]) -> None:
        """One heartbeat with the newest id, whatever the size: dashboards
        see the gap and fetch the range from the log in bounded batches."""
        if events:
            self._send_hint(max(event.pk for event in events))

    def _send_hint(self, last_id: int) -> None:
        message = {"type": "product.event", "text": heartbeat_text(last_id)}
        async_to_sync(self._send_all)(self._layer(), [message])

    async def _send_all(self, layer: Any, messages: list[dict[str, Any]]) -> None:
        async def send_in_order() -> None:
            for message in messages:
                await layer.group_send(DASHBOARD_GROUP, message)

        try:
            await asyncio.wait_for(send_in_order(), self.timeout)
        except asyncio.TimeoutError as exc:
            # Before Python 3.11 asyncio's TimeoutError is not the builtin one;
            # raise the builtin so callers catch one type on every version.
            raise TimeoutError(
                f"Notifier {self.alias!r}: channel layer did not answer within {self.timeout} s."
            ) from exc


def _message(event: ProductEvent) -> dict[str, Any]:
    message = {"type": "product.event", "id": event.pk, "text": event_text(event)}
    if has_cost_changes(event):
        message["redacted"] = event_text(event, with_costs=False)
    return message
