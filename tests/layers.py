"""Channel layers that misbehave, for notifier fault tests."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from channels.layers import InMemoryChannelLayer


class HangingLayer(InMemoryChannelLayer):
    """A Redis that accepts the connection and never answers."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
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


class RecordingLayer(InMemoryChannelLayer):
    """Remembers every ``group_send`` (group, message), in ``sent``."""

    sent: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        RecordingLayer.sent.append((group, message))
