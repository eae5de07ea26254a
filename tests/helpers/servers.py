"""Real processes for the end-to-end and fault tests: a private Redis, daphne
servers of the test project, a cookie-keeping HTTP client and a dashboard
socket client for them (in-process sockets: :mod:`.sockets`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import (
    HTTPCookieProcessor,
    HTTPRedirectHandler,
    OpenerDirector,
    Request,
    build_opener,
)

import pytest
from django.db import connections

from tests.helpers import services
from tests.helpers.services import free_port, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Locator, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Flags for Debian's chromium in a container: no sandbox (root), no GPU, and no
# background traffic or first-run work that slows a test down.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
T = TypeVar("T")


def require(what: str, available: bool, hint: str) -> None:
    """Skip when a tool the test needs is missing; under CI=true, fail."""
    if available:
        return
    if services.in_ci():
        pytest.fail(f"{what} is missing, and CI=true requires it. {hint}")
    pytest.skip(f"{what} is missing. {hint}")


def off_main_thread(func: Callable[[], T]) -> T:
    """Run ORM code in a worker thread.

    Playwright's sync API keeps an asyncio loop running on the main thread,
    where Django refuses synchronous ORM calls (SynchronousOnlyOperation).
    """

    def run() -> T:
        try:
            return func()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


class Process:
    """A child process whose output goes to a log file the report can show."""

    name: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def launch(self, command: list[str], env: dict[str, str] | None = None) -> None:
        assert self.process is None, f"{self.name} is already running"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: nothing gets to clean up."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def _end(self, sig: signal.Signals) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(sig)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])


class RedisServer(Process):
    """A private redis-server: tests may stop it, and no other test run's
    dashboard events (same group names) can reach ours through it."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.name = "redis-server"
        self.binary = binary
        self.directory = directory
        self.log_path = directory / "redis.log"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.launch(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ]
        )
        wait_until(self.answers, what=f"redis-server on port {self.port}")

    def answers(self) -> bool:
        self.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def own_redis_server(directory: Path) -> Iterator[RedisServer]:
    """A running redis-server of the test's own (never the shared one: it may
    be stopped, and it hears no other run), stopped afterwards."""
    binary = redis_server_binary()
    require("redis-server", binary is not None, "Install Debian's redis-server.")
    assert binary is not None
    redis = RedisServer(binary, directory)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


class Server(Process):
    """``daphne tests.e2e.asgi:application`` on a fixed port, so it can be
    killed and started again where its clients expect it."""

    def __init__(self, name: str, env: dict[str, str], directory: Path) -> None:
        self.name = f"server {name}"
        self.env = env
        self.log_path = directory / f"server-{name}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def launch_daphne(self) -> None:
        self.launch(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "tests.e2e.asgi:application",
            ],
            env=self.env,
        )

    def wait_ready(self) -> None:
        wait_until(self.answers, 30, f"{self.name} on port {self.port}")

    def start(self) -> None:
        self.launch_daphne()
        self.wait_ready()

    def answers(self) -> bool:
        self.check_alive()
        try:
            with build_opener().open(f"{self.url}/accounts/login/", timeout=2) as page:
                return bool(page.status == 200)
        except (URLError, OSError):
            return False

    def socket_url(self, after: int) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/products/?after={after}"


def server_env(database: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DB_BACKEND": "postgres",
        "POSTGRES_DB": database,
        "CHANNEL_BACKEND": "redis",
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpSession:
    """A user's HTTP client: keeps cookies, sends Django's CSRF token, and
    reports redirects instead of following them."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener: OpenerDirector = build_opener(
            HTTPCookieProcessor(self.cookies), _NoRedirect
        )

    def request(
        self, path: str, data: dict[str, Any] | None = None
    ) -> tuple[int, str, str]:
        """(status, Location header, body) of a GET, or a POST when ``data``."""
        body = None
        if data is not None:
            body = urlencode({"csrfmiddlewaretoken": self.cookie("csrftoken"), **data})
        request = Request(self.base_url + path, data=body.encode() if body else None)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, "", response.read().decode()
        except HTTPError as error:  # 3xx (not followed) and 4xx/5xx
            with error:
                return (
                    error.code,
                    error.headers.get("Location", ""),
                    error.read().decode(),
                )

    def log_in(self, username: str, password: str) -> None:
        self.request("/accounts/login/")  # sets the CSRF cookie
        status, _, _ = self.request(
            "/accounts/login/", {"username": username, "password": password}
        )
        assert status == 302, f"login as {username} failed with {status}"
        assert self.cookie("sessionid"), "login set no session cookie"

    def cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.cookies if c.name == name), "")

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)


@contextmanager
def dashboard_socket(
    server: Server, session: HttpSession, after: int
) -> Iterator[FeedClient]:
    from websockets.sync.client import connect
    from websockets.typing import Origin

    connection = connect(
        server.socket_url(after),
        origin=Origin(server.url),
        additional_headers={"Cookie": session.cookie_header()},
        proxy=None,
        open_timeout=5,
        # Like a browser: no client pings, so an idle socket really is idle.
        ping_interval=None,
    )
    with connection:
        yield FeedClient(connection)


def unpacked(raw: str | bytes) -> list[dict[str, Any]]:
    """The frames one socket message carries (a ``frames`` message holds
    several, in order)."""
    message: dict[str, Any] = json.loads(raw)
    if message["type"] == "frames":
        return list(message["frames"])
    return [message]


class FeedClient:
    """Reads the dashboard socket's JSON frames, counting heartbeats."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.heartbeats: list[int] = []
        # Frames of a ``frames`` message not yet read.
        self.pending: list[dict[str, Any]] = []

    def _recv(self, timeout: float) -> dict[str, Any]:
        """The next frame; raises TimeoutError or ConnectionClosed."""
        if not self.pending:
            self.pending = unpacked(self.connection.recv(timeout=timeout))
        return self.pending.pop(0)

    def next_frame(self, want: str, timeout: float) -> dict[str, Any]:
        """The next frame of type ``want``; heartbeats on the way are counted,
        any other frame fails the test."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {want!r} frame within {timeout} s")
            try:
                frame = self._recv(timeout=remaining)
            except TimeoutError:
                continue
            if frame["type"] == want:
                return frame
            assert frame["type"] == "heartbeat", f"unexpected frame {frame}"
            self.heartbeats.append(frame["last_id"])

    def closed_with(self, timeout: float) -> int:
        """Read until the server closes the socket and return its close code;
        any frame but a heartbeat on the way fails the test."""
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frame = self._recv(timeout=remaining)
            except TimeoutError:
                break
            except ConnectionClosed as closed:
                if closed.rcvd is None:
                    raise AssertionError("closed without a close frame") from closed
                return int(closed.rcvd.code)
            assert frame["type"] == "heartbeat", f"unexpected frame {frame}"
            self.heartbeats.append(frame["last_id"])
        raise AssertionError(f"the socket was still open after {timeout} s")

    def only_heartbeats_for(self, seconds: float) -> None:
        """Read for ``seconds``; fail on anything but heartbeats or a close."""
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frame = self._recv(timeout=remaining)
            except TimeoutError:
                return
            except ConnectionClosed as closed:
                raise AssertionError(
                    f"the idle socket was closed: {closed.rcvd}"
                ) from closed
            assert frame["type"] == "heartbeat", f"unexpected frame {frame}"
            self.heartbeats.append(frame["last_id"])


class DashboardPage:
    """A staff member's browser tab on the live dashboard.

    Records every JavaScript dialog (dismissing it) and every uncaught page
    error, so a test can assert that none happened.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def log_in(self, server: Server, username: str, password: str) -> None:
        """Log in through the login form, landing on the dashboard, live."""
        from playwright.sync_api import expect

        self.page.goto(f"{server.url}/accounts/login/?next=/dashboard/products/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page).to_have_url(f"{server.url}/dashboard/products/")
        expect(self.status).to_have_text("Live")

    @property
    def status(self) -> Locator:
        return self.page.locator("[data-connection]")

    @property
    def feed(self) -> Locator:
        return self.page.locator("[data-feed]")

    def row(self, event_id: int) -> Locator:
        return self.page.locator(f'[data-feed] > li[data-id="{event_id}"]')
