"""Tools the fault cases share: a TCP proxy that can cut PostgreSQL off, a
Redis that can be frozen, threads that report their errors."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

from tests.helpers.servers import RedisServer, free_port

__all__ = ["FreezableRedis", "TcpProxy", "run_together"]


# Why a case skips what follows a Redis restart on the pub/sub layer on 3.10.
PUBSUB_RESTART_ON_PY310 = (
    "channels-redis 4.3's pub/sub layer does not reliably recover from a Redis "
    "restart on Python 3.10: two coroutines read one connection "
    "('readuntil() called while another coroutine is already waiting'), "
    "and new sockets may fail to subscribe until the process restarts"
)


def pubsub_restart_unreliable(layers: dict[str, Any]) -> bool:
    """Whether ``CHANNEL_LAYERS`` is the pub/sub layer on Python 3.10, where
    a restarted Redis may leave the process deaf (PUBSUB_RESTART_ON_PY310)."""
    return sys.version_info < (3, 11) and "pubsub" in layers["default"]["BACKEND"]


class FreezableRedis(RedisServer):
    """A private redis-server that can also hang: SIGSTOP keeps its port open
    and its connections established, but nothing is ever answered."""

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


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
