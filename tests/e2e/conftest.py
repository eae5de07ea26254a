"""Fixtures for the end-to-end tests: real daphne processes of the test project
on the pytest-django test database (PostgreSQL) and a private Redis, and
Debian's chromium driven by Playwright.

Every process a fixture starts is stopped in its finalizer; when a test fails,
the tail of each server's log is printed with the report.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection

from tests.helpers.servers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DashboardPage,
    RedisServer,
    Server,
    redis_server_binary,
    require,
    server_env,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

_failed = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[None]:
    report: pytest.TestReport = yield  # type: ignore[misc]
    if report.failed:
        item.stash[_failed] = True
    return report  # type: ignore[return-value]


@pytest.fixture
def private_redis(tmp_path: Path, settings: Any) -> Iterator[RedisServer]:
    binary = redis_server_binary()
    require("redis-server", binary is not None, "Install Debian's redis-server.")
    assert binary is not None
    redis = RedisServer(binary, tmp_path)
    redis.start()
    # This process's notifier (ORM changes made by the tests) must publish
    # where the servers listen, under the prefix they use.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": redis.url, "socket_timeout": 30}],
                "prefix": settings.CHANNEL_PREFIX,
            },
        }
    }
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def start_servers(
    request: pytest.FixtureRequest,
    transactional_db: None,
    private_redis: RedisServer,
    tmp_path: Path,
) -> Iterator[Callable[..., list[Server]]]:
    """Start one daphne process per name, all on the test database (which
    pytest-django has committed data in, with transaction=True) and Redis;
    ``env`` adds or overrides environment variables (e.g. ``DB_PORT``)."""
    # The test database's name is only known now, after pytest-django made it.
    base_env = server_env(connection.settings_dict["NAME"], private_redis.url)
    started: list[Server] = []

    def start(*names: str, env: dict[str, str] | None = None) -> list[Server]:
        servers = [
            Server(name, {**base_env, **(env or {})}, tmp_path) for name in names
        ]
        for server in servers:  # Launch all, then wait: they boot in parallel.
            server.launch_daphne()
            started.append(server)
        for server in servers:
            server.wait_ready()
        return servers

    try:
        yield start
    finally:
        for server in started:
            server.stop()
        if request.node.stash.get(_failed, False):
            for process in [*started, private_redis]:
                print(f"--- {process.name} ({process.log_path}) ---")
                print(process.log_tail())


@pytest.fixture
def browser(transactional_db: None, staff_user: Any) -> Iterator[Browser]:
    """Chromium, started after the database fixtures (and torn down before
    their flush): Playwright keeps an event loop running on this thread, where
    Django refuses ORM calls."""
    require(
        "Playwright's Python package",
        importlib.util.find_spec("playwright") is not None,
        "Install the e2e dependency group (never `playwright install`: the "
        "tests drive Debian's chromium).",
    )
    require(CHROMIUM, os.access(CHROMIUM, os.X_OK), "apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def dashboard(browser: Browser) -> Iterator[DashboardPage]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        yield DashboardPage(context.new_page())
    finally:
        context.close()
