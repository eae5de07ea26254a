"""Shared helpers for the security suite: users of every role, database
snapshots, hostile inputs, logged-in clients, dashboard sockets, channel
layers."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from shop_manager.models import Product, ProductEvent
from tests.sockets import dashboard_socket

ROLES = ("anonymous", "regular", "inactive", "staff", "superuser")

# Names that would run script or template code if a page failed to escape them.
HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "</script><script>alert(1)</script>",
)

# What a product form posts for a valid new product.
VALID_PRODUCT = {
    "name": "Kettle",
    "price": "20.00",
    "cost_price": "9.00",
    "quantity": "2",
}


def make_user(role: str) -> Any:
    """A user of ``role``; None for anonymous.

    "inactive" is staff whose account was deactivated after they logged in:
    their session is still alive, see :func:`client_for`.
    """
    User = get_user_model()
    if role == "anonymous":
        return None
    if role == "superuser":
        return User.objects.create_superuser(username="boss", password="boss-pass")
    return User.objects.create_user(
        username=role, password=f"{role}-pass", is_staff=role in {"staff", "inactive"}
    )


def client_for(role: str, **kwargs: Any) -> Client:
    """A test client logged in as a fresh user of ``role``."""
    client = Client(**kwargs)
    user = make_user(role)
    if user is not None:
        client.force_login(user)
        if role == "inactive":
            # Deactivated after logging in: the session cookie still works.
            user.is_active = False
            user.save()
    return client


def product(name: str = "Tea", **fields: Any) -> Product:
    fields.setdefault("price", Decimal("3.50"))
    fields.setdefault("quantity", 4)
    return Product.objects.create(name=name, **fields)


def snapshot() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every product and change-log row, to compare before and after a request."""
    return (
        list(Product.objects.order_by("pk").values()),
        list(ProductEvent.objects.order_by("pk").values()),
    )


def session_exists(session_key: str) -> bool:
    return Session.objects.filter(session_key=session_key).exists()


def is_logged_in(client: Client) -> bool:
    return "Signed in as" in client.get("/products/").text


def socket_for(
    application: Any, client: Client | None, origin: bytes | None = b"http://testserver"
) -> WebsocketCommunicator:
    """A dashboard-socket client with ``client``'s session cookie and ``origin``
    (no Origin header when None)."""
    headers = []
    if origin is not None:
        headers.append((b"origin", origin))
    if client is not None and "sessionid" in client.cookies:
        session = client.cookies["sessionid"].value
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, "/ws/products/", headers=headers)


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
    return dashboard_socket(client)


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
