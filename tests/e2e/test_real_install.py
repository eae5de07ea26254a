"""A stranger's install, for real: the built wheel in a fresh virtualenv, a
new ``startproject`` site with exactly the files docs/installation.md shows
and the production block docs/deployment.md adds, served by daphne.

tests/test_docs_snippets.py builds the same site inside this checkout's
environment; this one proves the wheel carries everything (templates, static
files, migrations) and its extras pull in what the docs rely on.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.helpers import services as services_module
from tests.helpers.doc_snippets import (
    DEPLOYMENT,
    INSTALLATION,
    ROOT,
    apply_host_files,
    host_files,
    labelled_block,
)
from tests.helpers.servers import (
    Process,
    RedisServer,
    free_port,
    redis_server_binary,
    require,
    unpacked,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXTRAS = "redis,postgres,daphne"
PRODUCTION_BLOCK = "# mysite/settings.py: production"
SERVICES_BLOCK = "# mysite/settings.py: services"
PASSWORD = "a-long-staff-password-for-the-test"


def site_env(**extra: str) -> dict[str, str]:
    """The environment a host's shell would have: nothing of this checkout's
    Python, Django or test settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTHON", "VIRTUAL_ENV"))
    }
    return {**env, **extra}


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout + result.stderr


class Site:
    """HTTP to the site as a TLS proxy would pass it on (X-Forwarded-Proto),
    keeping cookies by hand: they are Secure, which cookie jars withhold
    over http."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, Any] | None = None
    ) -> tuple[int, str, str]:
        """(status, Location, body)."""
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        body = None
        if form is not None:
            body = urlencode(
                {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}
            )
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # An HTTPS POST must name its origin (Django's CSRF check).
            headers["Origin"] = self.origin
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(header)
                self.cookies.update({name: m.value for name, m in cookie.items()})
            return (
                response.status,
                response.headers.get("Location", ""),
                response.read().decode(),
            )
        finally:
            connection.close()


class Daphne(Process):
    def __init__(self, bin_dir: Path, site: Path, env: dict[str, str]) -> None:
        self.name = "daphne (fresh install)"
        self.log_path = site / "daphne.log"
        self.port = free_port()
        self.command = [
            str(bin_dir / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            "mysite.asgi:application",
        ]
        self.cwd = site
        self.env = env

    def start(self) -> None:
        assert self.process is None
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self.answers, 60, f"daphne on port {self.port}")

    def answers(self) -> bool:
        self.check_alive()
        try:
            status, _, _ = Site(self.port).request("GET", "/accounts/login/")
        except OSError:
            return False
        return status == 200


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A fresh virtualenv holding the wheel built from this checkout, with
    its extras; returns its bin/ folder."""
    venv = tmp_path / "venv"
    env = site_env()
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    bin_dir = venv / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "--disable-pip-version-check"]
    run(
        [*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        tmp_path,
        env,
    )
    [wheel] = (tmp_path / "dist").glob("django_shop_manager-*.whl")
    run([*pip, "install", "-q", f"{wheel}[{EXTRAS}]"], tmp_path, env)
    return bin_dir


@pytest.fixture(params=["sqlite", "postgres-redis"])
def services(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """Nothing (the install page's SQLite and in-memory layer), or a fresh
    PostgreSQL database and a private redis-server for the deployment page's
    services block; returns the environment that block reads."""
    if request.param == "sqlite":
        yield {}
        return
    services_module.require("PostgreSQL", services_module.postgres_address())
    binary = redis_server_binary()
    require("redis-server", binary is not None, "Install Debian's redis-server.")
    assert binary is not None
    host, port = services_module.postgres_address()
    admin = {
        "host": host,
        "port": port,
        "user": os.environ.get("POSTGRES_USER", "postgres"),
        "password": os.environ.get("POSTGRES_PASSWORD", ""),
        "dbname": "postgres",
        "autocommit": True,
    }
    name = f"sm_install_{os.getpid()}_{free_port()}"
    import psycopg

    with psycopg.connect(**admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    redis = RedisServer(binary, tmp_path)
    redis.start()
    try:
        yield {
            "POSTGRES_DB": name,
            "DB_HOST": host,
            "DB_PORT": str(port),
            "REDIS_URL": redis.url,
        }
        # The site kept its data there: the test's product and its log entry.
        with psycopg.connect(**{**admin, "dbname": name}) as connection:
            logged = connection.execute(
                "SELECT count(*) FROM shop_manager_productevent"
            ).fetchone()
        assert logged is not None
        assert logged[0] >= 1
    finally:
        redis.stop()
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def site(
    installed: Path, services: dict[str, str], tmp_path: Path
) -> tuple[Path, dict[str, str]]:
    """``startproject mysite`` with the docs' files, migrated, with a staff
    user; returns its folder and the production environment."""
    folder = tmp_path / "site"
    folder.mkdir()
    env = site_env(
        SECRET_KEY="k" * 20 + "-fresh-install-test-" + "x" * 30,
        ALLOWED_HOSTS="localhost,127.0.0.1",
        DJANGO_SUPERUSER_USERNAME="boss",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        DJANGO_SUPERUSER_EMAIL="boss@example.com",
        **services,
    )
    run(
        [str(installed / "django-admin"), "startproject", "mysite", str(folder)],
        folder,
        env,
    )
    apply_host_files(folder / "mysite", host_files(INSTALLATION))
    with (folder / "mysite" / "settings.py").open("a") as settings:
        settings.write("\n\n" + labelled_block(DEPLOYMENT, PRODUCTION_BLOCK))
        if services:
            settings.write("\n\n" + labelled_block(DEPLOYMENT, SERVICES_BLOCK))
    python = str(installed / "python")
    run([python, "manage.py", "migrate", "--noinput", "-v", "0"], folder, env)
    run(
        [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        folder,
        env,
    )
    run([python, "manage.py", "createsuperuser", "--noinput"], folder, env)
    return folder, env


@pytest.fixture
def server(installed: Path, site: tuple[Path, dict[str, str]]) -> Any:
    folder, env = site
    daphne = Daphne(installed, folder, env)
    try:
        daphne.start()
        yield daphne
    finally:
        daphne.stop()


def next_event(socket: Any, name: str, timeout: float) -> dict[str, Any]:
    """Read frames until the event for product ``name``."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            frames = unpacked(socket.recv(timeout=remaining))
        except TimeoutError:
            break
        for frame in frames:
            if frame["type"] == "event" and frame["product"]["name"] == name:
                return frame
    raise AssertionError(f"no live event for {name!r} within {timeout} s")


def test_the_wheel_installs_into_a_fresh_site_that_serves_a_live_dashboard(server):
    """pip install the wheel with extras, startproject, the docs' files, migrate,
    check --deploy, daphne: the product list answers, a staff user logs in
    through the form, and a product created through the form reaches that
    user's dashboard socket live."""
    require(
        "the websockets client",
        importlib.util.find_spec("websockets") is not None,
        "Install the e2e dependency group.",
    )
    from websockets.sync.client import connect

    site = Site(server.port)
    status, _, html = site.request("GET", "/products/")
    assert status == 200, html
    assert "Products" in html

    status, _, _ = site.request("GET", "/accounts/login/")
    assert status == 200
    status, location, body = site.request(
        "POST", "/accounts/login/", {"username": "boss", "password": PASSWORD}
    )
    assert status == 302, body
    assert "sessionid" in site.cookies

    with connect(
        f"ws://127.0.0.1:{server.port}/ws/products/",
        origin=site.origin,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={site.cookies['sessionid']}"},
        proxy=None,
        open_timeout=10,
    ) as socket:
        hello = json.loads(socket.recv(timeout=10))
        assert hello == {"type": "heartbeat", "last_id": 0}

        status, location, body = site.request("GET", "/products/create/")
        assert status == 200, body
        status, location, body = site.request(
            "POST",
            "/products/create/",
            {
                "name": "Fresh install tea",
                "price": "4.20",
                "cost_price": "1.10",
                "quantity": "7",
            },
        )
        assert status == 302, re.sub(r"\s+", " ", body)[:2000]

        event = next_event(socket, "Fresh install tea", timeout=10)
    assert event["action"] == "created"
    assert event["actor"] == "boss"
    assert location == event["product"]["url"]
