"""Is PostgreSQL / Redis reachable? (And a free port, and waiting for a
condition, for tests that start processes.) Tests that need one skip with a clear reason
on a machine without it, and fail under CI (``CI=true``), where it must be up."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.helpers.waiting import HANG_BOUND, eventually


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_address() -> tuple[str, int]:
    return os.environ.get("DB_HOST", "127.0.0.1"), int(
        os.environ.get("DB_PORT", "5432")
    )


def redis_address() -> tuple[str, int]:
    url = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return url.hostname or "127.0.0.1", url.port or 6379


def require(name: str, address: tuple[str, int]) -> None:
    """Skip (or, under CI, fail) the calling test when ``address`` is unreachable."""
    if reachable(*address):
        return
    message = f"{name} is not reachable at {address[0]}:{address[1]}"
    if in_ci():
        pytest.fail(f"{message}, and CI=true requires it.")
    pytest.skip(f"{message}; start it to run this test.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    check: Callable[[], bool],
    timeout: float = HANG_BOUND,
    what: str = "a condition",
    interval: float = 0.02,
) -> None:
    """Return once ``check()`` is true; fail after ``timeout`` seconds
    (:func:`tests.helpers.waiting.eventually`, positional as the servers and
    webhook helpers call it)."""
    eventually(check, timeout=timeout, what=what, interval=interval)
