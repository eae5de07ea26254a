"""Helpers shared by the live-feed tests: sockets on the real routing, and
product changes made from async tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from shop_manager.models import Product, ProductEvent
from tests.sockets import dashboard_socket

ORIGIN = (b"origin", b"http://testserver")


async def login(user: Any) -> Client:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return client


def communicator(
    client: Client | None, query: str = "", origin: bytes = b"http://testserver"
) -> WebsocketCommunicator:
    return dashboard_socket(client, query, origin)


async def connect(client: Client | None, query: str = "") -> WebsocketCommunicator:
    socket = communicator(client, query)
    connected, _ = await socket.connect()
    assert connected
    return socket


@database_sync_to_async
def create(name: str = "Tea", **fields: Any) -> Product:
    fields.setdefault("price", Decimal("3.50"))
    fields.setdefault("quantity", 4)
    return Product.objects.create(name=name, **fields)


@database_sync_to_async
def update(product: Product, **fields: Any) -> None:
    for field, value in fields.items():
        setattr(product, field, value)
    product.save()


@database_sync_to_async
def event_ids() -> list[int]:
    return list(ProductEvent.objects.values_list("id", flat=True).order_by("id"))


@database_sync_to_async
def product_rows() -> list[tuple[Any, ...]]:
    return list(Product.objects.values_list("pk", "name", "quantity", "version"))


async def closed_with(socket: WebsocketCommunicator, timeout: float = 3) -> int:
    """Read frames until the server closes; return the close code."""
    while True:
        frame = await socket.receive_output(timeout=timeout)
        if frame["type"] == "websocket.close":
            return int(frame["code"])


def unpacked(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The frames one message carries: a ``frames`` message's, in order, or
    the message itself."""
    if message["type"] == "frames":
        return list(message["frames"])
    return [message]
