"""Release what channels-redis keeps for a channel nobody will read again.

``RedisChannelLayer`` (channels-redis 4.3) keeps a receive queue per local
channel and deletes it when ``receive()`` ends, except when the receive is
cancelled while it holds the layer's receive lock (waiting on Redis): then the
queue stays for good. Every dashboard socket that closed that way, and the
fan-out's subscription each time a process's last dashboard closed, left
about 3.4 KB behind; a process whose dashboards reconnect all day grew
without bound.
"""

from __future__ import annotations

from typing import Any

__all__ = ["forget_channel"]


def forget_channel(layer: Any, channel: str) -> None:
    """Drop ``channel``'s empty receive queue, once nothing receives on it."""
    buffers = getattr(layer, "receive_buffer", None)
    if isinstance(buffers, dict):
        queue = buffers.get(channel)
        if queue is not None and queue.empty():
            del buffers[channel]
