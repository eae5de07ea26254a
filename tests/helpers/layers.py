"""Channel layers: the ``CHANNEL_LAYERS`` a test runs on, and layers that
misbehave or record what they are sent."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any, ClassVar

from channels.layers import InMemoryChannelLayer
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.helpers.waiting import HANG_BOUND

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"
REDIS_LAYERS = (
    "channels_redis.core.RedisChannelLayer",
    "channels_redis.pubsub.RedisPubSubChannelLayer",
)


def channel_layers(backend: str) -> dict[str, Any]:
    """``CHANNEL_LAYERS`` for ``backend`` on the shared Redis; Redis ones get
    a prefix of their own, so no other test (or test run) hears their
    messages."""
    if backend == IN_MEMORY_LAYER:
        return {"default": {"BACKEND": backend}}
    return {
        "default": {
            "BACKEND": backend,
            "CONFIG": {
                # As docs/deployment.md says for redis-py 8 (W002, W003).
                "hosts": [
                    {
                        "address": settings.REDIS_URL,
                        "socket_timeout": 30,
                        "max_connections": 1000,
                    }
                ],
                "prefix": f"sm-security-{uuid.uuid4().hex[:12]}",
            },
        }
    }


# redis-py's socket_timeout for a Redis the fault tests freeze (30 s as
# deployed, longer here): what must not wait for it is then told apart from a
# step that is merely slow on a loaded machine by HANG_BOUND, with room to spare.
FAULT_SOCKET_TIMEOUT = 4 * HANG_BOUND


def redis_layers(
    backend: str, url: str, prefix: str, socket_timeout: float = 30
) -> dict[str, Any]:
    """``CHANNEL_LAYERS`` for a channels-redis layer on ``url``, as
    docs/deployment.md configures it: socket_timeout above channels-redis' 5 s
    blocking reads, and for the list layer a command on a connection Redis
    dropped retried once on a new one (the pub/sub layer reconnects by itself;
    on Python 3.10 the retry stalled its reconnect)."""
    host: dict[str, Any] = {"address": url, "socket_timeout": socket_timeout}
    if backend.endswith(".core.RedisChannelLayer"):
        host["retry_on_error"] = [RedisConnectionError]
    return {
        "default": {
            "BACKEND": backend,
            "CONFIG": {"hosts": [host], "prefix": prefix},
        }
    }


class HangingLayer(InMemoryChannelLayer):
    """A Redis that accepts the connection and never answers."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await asyncio.sleep(3600)


class CancelLosingLayer(InMemoryChannelLayer):
    """A Redis that never answers, seen through a client that loses the first
    cancellation of a send: redis-py's own timeout takes it for a timed-out
    read and retries (seen on Python 3.10 against a frozen Redis, where a
    save then waited four minutes)."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        # The first cancellation is taken for a timeout of its own: tried again.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        await asyncio.sleep(3600)


class BrokenLayer(InMemoryChannelLayer):
    """A Redis that refuses connections."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionRefusedError("Redis is down")


class FlakyReceiveLayer(InMemoryChannelLayer):
    """A Redis that drops the connection once, then recovers."""

    failed = False

    async def receive(self, channel: str) -> dict[str, Any]:
        if not FlakyReceiveLayer.failed:
            FlakyReceiveLayer.failed = True
            raise ConnectionResetError("Redis restarted")
        return await super().receive(channel)


class CancelSwallowingLayer(InMemoryChannelLayer):
    """A receive that loses its first cancellation, as channels-redis' does on
    Python < 3.12 when the cancel lands as redis-py's ``asyncio.wait_for``
    around a send completes (CPython gh-86296), and then waits on."""

    async def receive(self, channel: str) -> dict[str, Any]:
        try:
            return await super().receive(channel)
        except asyncio.CancelledError:
            pass
        return await super().receive(channel)


class RecordingLayer(InMemoryChannelLayer):
    """Remembers every ``group_send`` (group, message), in ``sent``."""

    sent: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        RecordingLayer.sent.append((group, message))
