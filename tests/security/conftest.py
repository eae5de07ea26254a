from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings

from tests.helpers.layers import IN_MEMORY_LAYER, REDIS_LAYERS, channel_layers
from tests.helpers.sockets import dashboard_socket

OpenSocket = Callable[[Client], Awaitable[WebsocketCommunicator]]


@pytest.fixture(
    params=[
        IN_MEMORY_LAYER,
        *(pytest.param(backend, marks=pytest.mark.redis) for backend in REDIS_LAYERS),
    ],
    ids=["memory", "redis", "redis-pubsub"],
)
def any_layer(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test on the in-memory layer and on both channels-redis layers."""
    with override_settings(CHANNEL_LAYERS=channel_layers(request.param)):
        yield request.param


@pytest_asyncio.fixture
async def open_socket() -> AsyncIterator[OpenSocket]:
    """Open a dashboard socket for a logged-in client (its first heartbeat
    read); every socket opened is disconnected at the end."""
    opened: list[WebsocketCommunicator] = []

    async def open_for(client: Client) -> WebsocketCommunicator:
        socket = dashboard_socket(client)
        opened.append(socket)
        connected, _ = await socket.connect()
        assert connected
        assert (await socket.receive_json_from())["type"] == "heartbeat"
        return socket

    yield open_for
    for socket in opened:
        await socket.disconnect()
