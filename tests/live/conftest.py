from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest_asyncio
from channels.testing import WebsocketCommunicator


@pytest_asyncio.fixture
async def disconnect_after() -> AsyncIterator[Callable[..., None]]:
    """Register sockets to disconnect once the test ends, passed or failed."""
    sockets: list[WebsocketCommunicator] = []
    yield lambda *more: sockets.extend(more)
    for socket in sockets:
        # A socket the server closed has ended; the test asserted how.
        if not socket.future.done():
            await socket.disconnect()
