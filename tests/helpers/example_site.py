"""Run the example project's ``manage.py`` in a fresh interpreter, or serve
it as its container does.

The example project has its own settings (and apps the test settings do not
install), so tests drive it as a host would: a subprocess on a throwaway
database (SQLite, or PostgreSQL through ``ExamplePostgres``), with only the
environment variables the test names. ``ExampleServer`` runs it under the
Dockerfile's uvicorn command; a ``Visitor`` is one browser talking to it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.helpers.servers import Process, free_port, wait_until

EXAMPLE_PROJECT = Path(__file__).resolve().parents[2] / "example_project"
# The example settings read these; a test's own environment must not leak in.
EXAMPLE_ENV_VARS = {
    "ALLOWED_HOSTS",
    "AXES_COOLOFF_MINUTES",
    "AXES_FAILURE_LIMIT",
    "BEHIND_PROXY",
    "CSRF_TRUSTED_ORIGINS",
    "DB_CONN_MAX_AGE",
    "DB_HOST",
    "DB_POOL",
    "DB_POOL_TIMEOUT",
    "DB_PORT",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "HSTS_INCLUDE_SUBDOMAINS",
    "HSTS_PRELOAD",
    "HSTS_SECONDS",
    "HTTPS",
    "POSTGRES_DB",
    "POSTGRES_PASSWORD",
    "POSTGRES_USER",
    "PROXY_COUNT",
    "REDIS_URL",
    "SECRET_KEY",
    "SQLITE_PATH",
}
# Long, varied and not "django-insecure-": what check --deploy asks of a key.
PRODUCTION_SECRET_KEY = "x7#Qm2!vR9pL4$wK8zT1^nB6&cY3*hF5-gJ0+dS_eA@uX2%iO7"


# The example settings with a fast password hasher (tests/example_settings.py);
# a test may still name DJANGO_SETTINGS_MODULE itself.
EXAMPLE_SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "tests.example_settings",
    "PYTHONPATH": os.pathsep.join(
        filter(None, [str(EXAMPLE_PROJECT.parent), os.environ.get("PYTHONPATH")])
    ),
}


def example_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in EXAMPLE_ENV_VARS}
    return {**clean, **EXAMPLE_SETTINGS, **env}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python manage.py *args`` in the example project; never raises."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE_PROJECT,
        env=example_env(**env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def shell(code: str, **env: str) -> str:
    """Run ``code`` with the example project set up; return what it printed."""
    result = manage("shell", "--no-imports", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def migrated_copy(template: Path, target: Path) -> Path:
    """A fresh copy of an already-migrated database (migrating takes seconds)."""
    shutil.copyfile(template, target)
    return target


def migrate(path: Path) -> Path:
    result = manage("migrate", "--noinput", DEBUG="true", SQLITE_PATH=str(path))
    assert result.returncode == 0, result.stderr
    return path


# Served as production serves it -------------------------------------------

DOCKERFILE = EXAMPLE_PROJECT.parent / "Dockerfile"


def container_server_arguments(port: int) -> list[str]:
    """The uvicorn command line the Dockerfile starts, on 127.0.0.1:``port``:
    the same options (websocket implementation, proxy headers, ...) as the
    container, so a test of the served site tests the container's server."""
    match = re.search(r"exec uvicorn ([^\"\]]+)", DOCKERFILE.read_text())
    assert match, "the Dockerfile's CMD starts no uvicorn"
    arguments = match.group(1).split()
    for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        arguments[arguments.index(option) + 1] = value
    return arguments


class ExampleServer(Process):
    """The example project under uvicorn, as its container runs it, with
    exactly the environment a test names (``example_env``)."""

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        self.name = "example server"
        self.env = example_env(**env, PYTHONUNBUFFERED="1")
        directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / "example-server.log"
        self.port = free_port()

    def start(self) -> None:
        self.launch(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(EXAMPLE_PROJECT),
                *container_server_arguments(self.port),
            ],
            env=self.env,
        )
        wait_until(self.answers, 60, f"{self.name} on port {self.port}")

    def answers(self) -> bool:
        self.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                conn.sendall(
                    b"GET /accounts/login/ HTTP/1.0\r\nHost: localhost\r\n\r\n"
                )
                return conn.recv(16).startswith(b"HTTP/1.")
        except OSError:
            return False


@dataclass
class Response:
    status: int
    headers: Message
    body: str


class Visitor:
    """One browser's requests to a served site over plain HTTP.

    Keeps its cookies (Secure ones too: behind a proxy, TLS ends there),
    sends the CSRF token, Origin and Referer Django checks, follows no
    redirect. ``headers`` go with every request (what a proxy adds, or what
    a client forges); ``source`` is the loopback address it connects from.
    """

    def __init__(
        self,
        server: ExampleServer,
        host: str = "localhost",
        headers: dict[str, str] | None = None,
        https: bool = False,
        source: str = "127.0.0.1",
    ) -> None:
        self.server = server
        self.source = source
        self.host = host
        self.headers = dict(headers or {})
        self.origin = f"{'https' if https else 'http'}://{host}"
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, timeout: float = 30
    ) -> Response:
        headers = {"Host": self.host, **self.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
        connection = http.client.HTTPConnection(
            "127.0.0.1",
            self.server.port,
            timeout=timeout,
            source_address=(self.source, 0),
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode(errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Response(response.status, response.headers, content)

    def get(self, path: str, timeout: float = 30) -> Response:
        return self.request("GET", path, timeout=timeout)

    def post(self, path: str, fields: dict[str, str | bytes]) -> Response:
        """A form POST with the CSRF token (from an earlier GET's cookie);
        bytes values go into the body as they are, percent-encoded."""
        token = self.cookies.get("csrftoken", "")
        body = urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return self.request("POST", path, body)

    def open_socket(
        self, path: str = "/ws/products/", timeout: float = 30
    ) -> tuple[int, dict[str, Any] | None]:
        """A websocket handshake with this browser's cookies and Origin: the
        status (101 when accepted) and the first frame the server sends."""
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect
        from websockets.typing import Origin

        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection = connect(
                f"ws://127.0.0.1:{self.server.port}{path}",
                origin=Origin(self.origin),
                additional_headers=headers,
                proxy=None,
                open_timeout=timeout,
                source_address=(self.source, 0),
            )
        except InvalidStatus as refused:
            return refused.response.status_code, None
        with connection:
            first: dict[str, Any] = json.loads(connection.recv(timeout=timeout))
        return 101, first

    def log_in(
        self, username: str | bytes, password: str, path: str = "/accounts/login/"
    ) -> Response:
        """Open the login page, then post the form: 302 on success, 200 with
        the form again on a failure, 429 when django-axes has locked it."""
        page = self.get(path)
        assert page.status == 200, f"GET {path}: {page.status}\n{page.body[:500]}"
        return self.post(path, {"username": username, "password": password})


class ExamplePostgres:
    """Example-project databases on the tests' PostgreSQL server: one
    migrated template, and a copy of it per test (``CREATE DATABASE ...
    TEMPLATE`` takes a fraction of a second; migrating takes seconds)."""

    def __init__(self, env: dict[str, str], prefix: str) -> None:
        # How the example project reaches the server (its settings' names).
        self.env = env
        self.prefix = prefix
        self.template = f"{prefix}_tpl"

    @classmethod
    def from_settings(cls, database: dict[str, Any]) -> ExamplePostgres:
        env = {
            "DB_HOST": str(database["HOST"]),
            "DB_PORT": str(database["PORT"]),
            "POSTGRES_USER": str(database["USER"]),
            "POSTGRES_PASSWORD": str(database["PASSWORD"]),
        }
        # Named after this run's test database, so a leftover says whose it is.
        base = database["TEST"]["NAME"] or f"test_{database['NAME']}"
        return cls(env, f"{base[:36]}_ex_{uuid.uuid4().hex[:8]}")

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host=self.env["DB_HOST"],
            port=int(self.env["DB_PORT"]),
            user=self.env["POSTGRES_USER"],
            password=self.env["POSTGRES_PASSWORD"],
            dbname="postgres",
            autocommit=True,
        ) as connection:
            connection.execute(sql)

    def migrate_template(self) -> None:
        self._admin(f'CREATE DATABASE "{self.template}"')
        result = manage(
            "migrate", "--noinput", DEBUG="true", POSTGRES_DB=self.template, **self.env
        )
        assert result.returncode == 0, result.stderr

    def drop_template(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')

    @contextmanager
    def copy(self) -> Iterator[dict[str, str]]:
        """A fresh copy of the template; yields the example project's env."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        try:
            yield {**self.env, "POSTGRES_DB": name}
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
