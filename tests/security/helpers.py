"""Shared helpers for the security suite: logged-in clients, dashboard sockets,
channel layers."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from shop_manager.models import Product
from tests.asgi import application

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"
REDIS_LAYERS = (
    "channels_redis.core.RedisChannelLayer",
    "channels_redis.pubsub.RedisPubSubChannelLayer",
)


def channel_layers(backend: str) -> dict[str, Any]:
    """``CHANNEL_LAYERS`` for ``backend``; Redis ones get a prefix of their own,
    so no other test (or test run) hears their messages."""
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


async def login(user: Any) -> Client:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return client


def communicator(client: Client) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"origin", b"http://testserver"), (b"cookie", cookie)]
    return WebsocketCommunicator(application, "/ws/products/", headers=headers)


async def closed_with(socket: WebsocketCommunicator, timeout: float = 5) -> int:
    """Read frames until the server closes; return the close code. Fails if a
    product event arrives first (heartbeats are fine)."""
    while True:
        frame = await socket.receive_output(timeout=timeout)
        if frame["type"] == "websocket.close":
            return int(frame["code"])
        assert json.loads(frame["text"])["type"] == "heartbeat", frame


async def next_event(
    socket: WebsocketCommunicator, timeout: float = 5
) -> dict[str, Any]:
    """The next product event, skipping heartbeats."""
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if frame["type"] == "event":
            return frame
        assert frame["type"] == "heartbeat", frame


@database_sync_to_async
def create_product(name: str = "Tea") -> Product:
    return Product.objects.create(name=name, price=Decimal("3.50"), quantity=4)
