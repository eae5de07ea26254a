"""What the webhook tests share: a real HTTP receiver on a thread whose
answers a test scripts, fast relay settings, and ways to run the relay."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.db import connection
from django.test import override_settings
from standardwebhooks.webhooks import Webhook

from shop_manager.webhooks.relay import Relay
from tests.helpers.services import free_port, wait_until
from tests.helpers.waiting import HANG_BOUND, eventually

__all__ = [
    "FAST",
    "Received",
    "Receiver",
    "RelayProcess",
    "fast_settings",
    "free_port",
    "receiving",
    "relay_once",
    "relay_until",
    "running_relay",
    "verify",
    "wait_until",
]

# Relay settings that keep every test well under a second per scenario. The
# request timeout only bounds a hang: a receiver here answers at once, and a
# relay starved on a loaded machine must not time it out and send again.
FAST: dict[str, Any] = {
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True,
    "WEBHOOK_TIMEOUT_SECONDS": HANG_BOUND / 4,
    "WEBHOOK_BACKOFF_SECONDS": 0.01,
    "WEBHOOK_BACKOFF_MAX_SECONDS": 0.05,
    "WEBHOOK_POLL_SECONDS": 0.02,
    "WEBHOOK_LEASE_SECONDS": HANG_BOUND,
    "WEBHOOK_PAUSE_AFTER_FAILURES": 1000,
}


def fast_settings(**overrides: Any) -> Any:
    return override_settings(SHOP_MANAGER={**FAST, **overrides})


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    # What the receiver answered; 0 while it has not or when it cut the connection.
    status: int
    # The request target, as it came on the wire.
    path: str = ""

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]


# An answer: an HTTP status, or "close" (read the request, cut the connection
# mid-response), optionally after a delay in seconds, or once ``until()``
# holds (a slow receiver whose slowness does not depend on the machine's).
@dataclass
class Answer:
    status: int | str = 200
    delay: float = 0.0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    until: Callable[[], bool] | None = None


class Receiver:
    """An HTTP/1.1 keep-alive server recording every POST.

    ``plan`` answers the next requests in turn, then ``default``. ``stop()``
    closes the listening socket *and* every open connection (a receiver that
    is down), ``start()`` listens again on the same port.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.plan: list[Answer] = []
        self.default = Answer()
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._sockets: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def acknowledged(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def acknowledged_ids(self) -> list[int]:
        return [int(r.msg_id) for r in self.acknowledged]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver._sockets.add(self.connection)
                    receiver.connections += 1

            def finish(self) -> None:
                with receiver.lock:
                    receiver._sockets.discard(self.connection)
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The relay gave up mid-request (its timeout, on a loaded
                    # machine): no receiver would act on half a body.
                    self.close_connection = True
                    return
                with receiver.lock:
                    answer = receiver.plan.pop(0) if receiver.plan else receiver.default
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(
                        receiver.max_in_flight, receiver.in_flight
                    )
                # Recorded on arrival, so the list is in the order requests came.
                received = Received(
                    {k.lower(): v for k, v in self.headers.items()}, body, 0, self.path
                )
                with receiver.lock:
                    receiver.received.append(received)
                try:
                    if answer.delay:
                        time.sleep(answer.delay)
                    if answer.until is not None:
                        # Past HANG_BOUND it answers anyway, and the test's
                        # own assertions say what went wrong.
                        with suppress(AssertionError):
                            eventually(answer.until, what="the receiver's cue")
                    if answer.status == "close":
                        self.wfile.write(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nok"
                        )
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    received.status = int(answer.status)
                    self.send_response(received.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    self.close_connection = True  # the relay gave up first
                finally:
                    with receiver.lock:
                        receiver.in_flight -= 1

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        with self.lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def receiving(port: int | None = None) -> Iterator[Receiver]:
    receiver = Receiver(port).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def verify(secret: str, received: Received) -> Any:
    """The payload, if the signature verifies with the standardwebhooks library
    (it raises otherwise)."""
    return Webhook(secret).verify(received.body, received.headers)


def relay_once() -> None:
    asyncio.run(Relay(once=True).run())


def relay_until(condition: Callable[[], bool], timeout: float = HANG_BOUND) -> None:
    """Run ``--once`` relays until ``condition``: what cron would do, and on
    SQLite the way to let the test read the database in between (a relay on
    another thread holds shared-cache table locks)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for delivery")
        relay_once()
        time.sleep(0.01)


@contextmanager
def running_relay() -> Iterator[Relay]:
    """A relay serving on its own thread until the block ends (then stopped
    as SIGTERM would)."""
    relay = Relay()
    loop = asyncio.new_event_loop()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(relay.run())
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(relay.stop)
        thread.join(10)
        assert not thread.is_alive(), "the relay did not stop"
        if errors:
            raise errors[0]


class RelayProcess:
    """``manage.py shop_manager_relay`` in a subprocess on the test database,
    with ``SHOP_MANAGER`` = ``config``."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.webhooks.relay_settings",
            "POSTGRES_DB": str(connection.settings_dict["NAME"]),
            "SHOP_MANAGER_JSON": json.dumps(config),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> RelayProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "shop_manager_relay"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def kill(self) -> None:
        self._end(signal.SIGKILL)

    def terminate(self) -> int:
        return self._end(signal.SIGTERM)

    def _end(self, sig: signal.Signals) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(15)

    def output(self) -> str:
        assert self.process is not None
        self._end(signal.SIGKILL)
        return self.process.stdout.read() if self.process.stdout else ""
