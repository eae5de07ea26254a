"""Reconnect channels-redis' pub/sub layer at once after a Redis restart.

``RedisPubSubChannelLayer`` (channels-redis 4.3) keeps one subscriber
connection per Redis shard. When Redis goes away, the shard's receive task
retries about once a second, and redis-py re-subscribes every channel when it
reconnects; whatever is published before that is heard by nobody. Until the
fan-out, a new socket's own ``SUBSCRIBE`` reconnected the shard first; the
fan-out subscribes once per process, so it reconnects the shard itself when it
sees it down, as ``SUBSCRIBE`` would (under the shard's lock, with redis-py's
own connect, which re-subscribes everything).

Any other layer has no such shards: both functions then do nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["reconnect_shards", "shards_down"]


def _shards(layer: Any) -> list[Any]:
    # RedisPubSubChannelLayer keeps a layer per event loop, made on first use.
    get_loop_layer = getattr(type(layer), "_get_layer", None)
    if get_loop_layer is None:
        return []
    return list(getattr(get_loop_layer(layer), "_shards", ()))


def _down(shard: Any) -> bool:
    connection = getattr(getattr(shard, "_pubsub", None), "connection", None)
    return connection is not None and not connection.is_connected


def shards_down(layer: Any) -> bool:
    """Whether a shard of the running loop's pub/sub layer lost its subscriber
    connection (so nothing published now would be heard)."""
    return any(_down(shard) for shard in _shards(layer))


async def reconnect_shards(layer: Any) -> None:
    """Reconnect every shard that is down; raises while Redis is unreachable."""
    for shard in _shards(layer):
        if _down(shard):
            async with shard._lock:
                if _down(shard):
                    await shard._pubsub.connect()
