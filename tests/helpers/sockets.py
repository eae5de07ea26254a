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
from tests.helpers.waiting import HANG_BOUND

__all__ = [
    "SAME_ORIGIN",
    "DashboardSocket",
    "assert_no_event_queued",
    "closed_with",
    "connect",
    "connected",
    "dashboard_socket",
    "next_event",
    "next_frame",
    "unpacked",
]

SAME_ORIGIN = b"http://testserver"


class DashboardSocket(WebsocketCommunicator):
    """A communicator whose waits only bound a hang.

    Channels' defaults give up after one second, which a loaded CI machine
    can take for any step; here every wait is :data:`HANG_BOUND`, so a test
    fails only when what it waits for never comes. (``receive_nothing`` keeps
    its short window: tests assert absence with a sentinel instead.)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Frames of a ``frames`` message that :func:`next_event` or
        # :func:`next_frame` has not handed out yet.
        self.pending: list[dict[str, Any]] = []

    async def connect(self, timeout: float = HANG_BOUND) -> tuple[bool, Any]:
        result: tuple[bool, Any] = await super().connect(timeout)
        return result

    async def receive_output(self, timeout: float = HANG_BOUND) -> dict[str, Any]:
        """The application's next message; its error as soon as it fails.

        asgiref's own version looks at a failed application only once the
        timeout is out, so a test expecting the error would wait out the
        whole hang bound. Here the wait ends on whichever comes first."""
        if self.future.done():
            self.future.result()  # The application's error, if it failed.
        getting = asyncio.ensure_future(self.output_queue.get())
        await asyncio.wait(
            {getting, self.future}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if not getting.done():
            getting.cancel()
            await asyncio.wait({getting})
        if not getting.cancelled():
            output: dict[str, Any] = getting.result()
            return output
        # A cancelled get takes nothing off the queue; what the application
        # sent before it ended is still there.
        if not self.output_queue.empty():
            queued: dict[str, Any] = self.output_queue.get_nowait()
            return queued
        if self.future.done():
            self.future.result()
        else:
            self.future.cancel()
            await asyncio.wait({self.future})
        raise asyncio.TimeoutError

    async def receive_from(self, timeout: float = HANG_BOUND) -> str | bytes:
        received: str | bytes = await super().receive_from(timeout)
        return received

    async def receive_json_from(self, timeout: float = HANG_BOUND) -> Any:
        return await super().receive_json_from(timeout)

    async def disconnect(self, code: int = 1000, timeout: float = HANG_BOUND) -> None:
        await super().disconnect(code, timeout)


def dashboard_socket(
    client: Client | None, query: str = "", origin: bytes | None = SAME_ORIGIN
) -> DashboardSocket:
    """A socket to ``/ws/products/{query}`` carrying ``client``'s session
    cookie (none for ``None`` or a client never logged in: an anonymous
    visitor) and ``origin`` (no Origin header for ``None``)."""
    headers = []
    if origin is not None:
        headers.append((b"origin", origin))
    if client is not None and "sessionid" in client.cookies:
        session = client.cookies["sessionid"].value
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return DashboardSocket(application, f"/ws/products/{query}", headers=headers)


async def connect(
    client: Client | None, query: str = "", *, timeout: float = HANG_BOUND
) -> DashboardSocket:
    """:func:`dashboard_socket`, connected (it fails the test if refused).
    Nothing is read from it yet."""
    socket = dashboard_socket(client, query)
    connected, _ = await socket.connect(timeout=timeout)
    assert connected, "the dashboard socket was refused"
    return socket


@asynccontextmanager
async def connected(client: Client, query: str = "") -> AsyncIterator[DashboardSocket]:
    """:func:`connect` for the block, disconnected after it unless the server
    ended it (a test that ended it has checked why)."""
    socket = await connect(client, query)
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


async def closed_with(
    socket: WebsocketCommunicator, timeout: float = HANG_BOUND
) -> int:
    """Read frames until the server closes; return the close code. Fails if a
    product event arrives first (heartbeats are fine)."""
    while True:
        frame = await socket.receive_output(timeout=timeout)
        if frame["type"] == "websocket.close":
            return int(frame["code"])
        for received in unpacked(json.loads(frame["text"])):
            assert received["type"] == "heartbeat", received


async def next_event(
    socket: WebsocketCommunicator, timeout: float = HANG_BOUND
) -> dict[str, Any]:
    """The next product event, skipping heartbeats; any other frame first
    fails the test. Frames the writer bundled into one ``frames`` message are
    read one by one (the rest wait on a :class:`DashboardSocket`)."""
    pending: list[dict[str, Any]] = getattr(socket, "pending", [])
    while True:
        if not pending:
            pending.extend(unpacked(await socket.receive_json_from(timeout=timeout)))
        frame = pending.pop(0)
        if frame["type"] == "event":
            return frame
        assert frame["type"] == "heartbeat", frame


def assert_no_event_queued(socket: WebsocketCommunicator) -> None:
    """Fail if a product event (or any frame but a heartbeat or the close)
    waits in ``socket``'s output.

    Call it once a sentinel has reached another socket of this process:
    the fan-out queues an event for every recipient in one pass, and each
    writer takes its frame before the test wakes up, so an event meant for
    ``socket`` would be here by now."""
    while not socket.output_queue.empty():
        message = socket.output_queue.get_nowait()
        if message["type"] == "websocket.close":
            continue
        for frame in unpacked(json.loads(message["text"])):
            assert frame["type"] == "heartbeat", frame


async def next_frame(
    socket: WebsocketCommunicator,
    matches: Callable[[dict[str, Any]], bool],
    timeout: float = HANG_BOUND,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The first frame ``matches`` accepts, and the frames read before it.

    Waits on the output queue itself: ``receive_json_from(timeout=...)``
    cancels the application when it times out, closing the socket under test.
    """
    skipped: list[dict[str, Any]] = []
    # Frames of a message read earlier are handed out first, in order.
    pending: list[dict[str, Any]] = getattr(socket, "pending", [])
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
            pending.extend(unpacked(await socket.receive_json_from()))
        frame = pending.pop(0)
        if matches(frame):
            return frame, skipped
        skipped.append(frame)
    raise AssertionError(f"no matching frame within {timeout} s; got {skipped}")
