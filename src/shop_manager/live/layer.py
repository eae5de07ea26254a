"""The channel layer the live feed runs on, and the one way request code
sends to it.

Every process's fan-out listens on ``CHANNEL_LAYERS[SHOP_MANAGER["CHANNEL_LAYER"]]``;
the notifier and the access receivers send there from a request, after
commit, where a hung Redis must not hold the request: :func:`send` bounds the
whole send in time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from shop_manager.conf import get_config
from shop_manager.live.tasks import within

__all__ = ["get_layer", "send"]


def get_layer() -> Any | None:
    """The feed's channel layer; None when ``CHANNEL_LAYERS`` has no such alias."""
    return get_channel_layer(get_config()["CHANNEL_LAYER"])


def send(
    layer: Any, group: str, messages: Sequence[dict[str, Any]], *, timeout: float
) -> None:
    """``group_send`` each message to ``group``, in order, from sync code.

    Raises the builtin ``TimeoutError`` when the layer has not taken them all
    within ``timeout`` seconds, and whatever the layer raises.
    """
    async_to_sync(_send_in_order)(layer, group, messages, timeout)


async def _send_in_order(
    layer: Any, group: str, messages: Sequence[dict[str, Any]], timeout: float
) -> None:
    async def send_all() -> None:
        for message in messages:
            await layer.group_send(group, message)

    try:
        await within(send_all(), timeout)
    except asyncio.TimeoutError as exc:
        # Before Python 3.11 asyncio's TimeoutError is not the builtin one;
        # raise the builtin so callers catch one type on every version.
        raise TimeoutError(
            f"The channel layer did not answer within {timeout} s."
        ) from exc
