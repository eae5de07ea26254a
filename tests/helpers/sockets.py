"""Dashboard sockets in the test process, on the test project's real routing
(``tests.asgi``, so URL, origin validator and session middleware all run),
and the frames they receive. (Sockets to served processes: :mod:`.servers`.)"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from channels.testing import WebsocketCommunicator
from django.test import Client

from tests.asgi import application

__all__ = [
    "SAME_ORIGIN",
    "closed_with",
    "connect",
    "connected",
    "dashboard_socket",
    "next_event",
    "next_frame",
    "unpacked",
]

SAME_ORIGIN = b"http://testserver"


def dashboard_socket(
    client: Client | None, query: str = "", origin: bytes | None = SAME_ORIGIN
) -> WebsocketCommunicator:
    """A socket to ``/ws/products/{query}`` carrying ``client``'s session
    cookie (none for ``None`` or a client never logged in: an anonymous
    visitor) and ``origin`` (no Origin header for ``None``)."""
    headers = []
    if origin is not None:
        headers.append((b"origin", origin))
    if client is not None and "sessionid" in client.cookies:
        session = client.cookies["sessionid"].value
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, f"/ws/products/{query}", headers=headers)


async def connect(
    client: Client | None, query: str = "", *, timeout: float = 1
) -> WebsocketCommunicator:
    """:func:`dashboard_socket`, connected (it fails the test if refused).
    Nothing is read from it yet."""
    socket = dashboard_socket(client, query)
    connected, _ = await socket.connect(timeout=timeout)
    assert connected, "the dashboard socket was refused"
    return socket


@asynccontextmanager
async def connected(
    client: Client, query: str = ""
) -> AsyncIterator[WebsocketCommunicator]:
    """:func:`connect` for the block, disconnected after it unless the server
    ended it (a test that ended it has checked why)."""
    # Generous: right after a Redis restart the layer is still reconnecting.
    socket = await connect(client, query, timeout=20)
    try:
        yield socket
    finally:
        if not socket.future.done():
            await socket.disconnect()


def unpacked(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The frames one message carries: a ``frames`` message's, in order, or
    the message itself."""
    if message["type"] == "frames":
        return list(message["frames"])
    return [message]


async def closed_with(socket: WebsocketCommunicator, timeout: float = 5) -> int:
    """Read frames until the server closes; return the close code. Fails if a
    product event arrives first (heartbeats are fine)."""
    while True:
        frame = await socket.receive_output(timeout=timeout)
        if frame["type"] == "websocket.close":
            return int(frame["code"])
        for received in unpacked(json.loads(frame["text"])):
            assert received["type"] == "heartbeat", received


async def next_event(
    socket: WebsocketCommunicator, timeout: float = 5
) -> dict[str, Any]:
    """The next product event, skipping heartbeats."""
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if frame["type"] == "event":
            return frame
        assert frame["type"] == "heartbeat", frame


async def next_frame(
    socket: WebsocketCommunicator,
    matches: Callable[[dict[str, Any]], bool],
    timeout: float = 10,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The first frame ``matches`` accepts, and the frames read before it.

    Waits on the output queue itself: ``receive_json_from(timeout=...)``
    cancels the application when it times out, closing the socket under test.
    """
    skipped: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pending:
            if socket.output_queue.empty():
                if socket.future.done():
                    socket.future.result()  # Raise what ended the application.
                    break
                await asyncio.sleep(0.02)
                continue
            # The socket's writer bundles frames queued together into one
            # "frames" message: read them one by one, in order.
            pending = unpacked(await socket.receive_json_from())
        frame = pending.pop(0)
        if matches(frame):
            return frame, skipped
        skipped.append(frame)
    raise AssertionError(f"no matching frame within {timeout} s; got {skipped}")
