"""Tools the fault cases share: a TCP proxy that can cut PostgreSQL off, a
Redis that can be frozen, form data, threads that report their errors, and
dashboard sockets on the test routing."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.e2e.support import RedisServer, free_port

__all__ = [
    "FreezableRedis",
    "TcpProxy",
    "dashboard_socket",
    "logged_in_client",
    "next_frame",
    "redis_layers",
    "run_together",
]


class FreezableRedis(RedisServer):
    """A private redis-server that can also hang: SIGSTOP keeps its port open
    and its connections established, but nothing is ever answered."""

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


def redis_layers(backend: str, url: str, prefix: str) -> dict[str, Any]:
    """``CHANNEL_LAYERS`` for a channels-redis layer on ``url``, as
    docs/deployment.md configures it: socket_timeout above channels-redis' 5 s
    blocking reads, and for the list layer a command on a connection Redis
    dropped retried once on a new one (the pub/sub layer reconnects by itself;
    on Python 3.10 the retry stalled its reconnect)."""
    host: dict[str, Any] = {"address": url, "socket_timeout": 30}
    if backend.endswith(".core.RedisChannelLayer"):
        host["retry_on_error"] = [RedisConnectionError]
    return {
        "default": {
            "BACKEND": backend,
            "CONFIG": {"hosts": [host], "prefix": prefix},
        }
    }


def run_together(*jobs: Callable[[], Any]) -> list[Any]:
    """Run each job in its own thread (so its own database connection) and
    return their results in order; the first error is raised here."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            results[index] = job()
        except BaseException as exc:  # Reported in the test's thread below.
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, job), daemon=True)
        for index, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a concurrent job hung"
    if errors:
        raise errors[0]
    return results


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream address, until cut.

    ``cut()`` drops every forwarded connection and stops listening, so new
    connections are refused, as when the database host goes away; ``restore()``
    listens on the same port again. Runs its own event loop in a thread.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        self._thread.start()
        self.restore()

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def _call(self, coroutine: Any) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._forward, "127.0.0.1", self.port, reuse_address=True
            )

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()  # Stop listening: new connections are refused.
        for writer in list(self._writers):
            writer.transport.abort()  # A reset, not a polite close.
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def _forward(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                *self.upstream
            )
        except OSError:
            client_writer.transport.abort()
            return
        pair = {client_writer, upstream_writer}
        self._writers |= pair
        try:
            await asyncio.gather(
                _pipe(client_reader, upstream_writer),
                _pipe(upstream_reader, client_writer),
            )
        finally:
            for writer in pair:
                writer.transport.abort()
            self._writers -= pair


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.transport.abort()


async def logged_in_client(user: Any) -> Client:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return client


@asynccontextmanager
async def dashboard_socket(
    client: Client, query: str = ""
) -> AsyncIterator[WebsocketCommunicator]:
    """A staff member's dashboard socket on the test project's routing."""
    from tests.sockets import dashboard_socket as new_socket

    socket = new_socket(client, query)
    # Generous: right after a Redis restart the layer is still reconnecting.
    connected, _ = await socket.connect(timeout=20)
    assert connected, "the dashboard socket was refused"
    try:
        yield socket
    finally:
        if not socket.future.done():  # A test that ended it has checked why.
            await socket.disconnect()


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
            message: dict[str, Any] = await socket.receive_json_from()
            # The socket's writer bundles frames queued together into one
            # "frames" message: read them one by one, in order.
            pending = (
                list(message["frames"]) if message["type"] == "frames" else [message]
            )
        frame = pending.pop(0)
        if matches(frame):
            return frame, skipped
        skipped.append(frame)
    raise AssertionError(f"no matching frame within {timeout} s; got {skipped}")
