"""PostgreSQL cut off from the example project as production serves it
(uvicorn as the container runs it, DEBUG off, Redis), then restored: the very
next page and the very next dashboard socket must work, in each of the
example project's ways of reusing connections.

Every connection the server holds dies in the outage (the TCP proxy resets
them and refuses new ones). A pool or a thread that hands one of them out
afterwards fails the request that gets it: a 500 page, or a 500 on the
socket's handshake, where Channels' AuthMiddleware reads the session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import services
from tests.helpers.example_site import (
    PRODUCTION_SECRET_KEY,
    ExampleServer,
    Visitor,
    shell,
)
from tests.helpers.faults import TcpProxy
from tests.helpers.servers import RedisServer, own_redis_server

# Redis is a redis-server of the test's own (example_redis), not the shared one.
pytestmark = pytest.mark.postgres

# Connection reuse, as the example project's DB_POOL and DB_CONN_MAX_AGE
# choose it (docs/deployment.md, "PostgreSQL connection reuse").
REUSE = {
    "pool": {},  # psycopg's pool: the default.
    "persistent": {"DB_POOL": "false", "DB_CONN_MAX_AGE": "600"},
    "none": {"DB_POOL": "false", "DB_CONN_MAX_AGE": "0"},
}
# More than every connection a server could hold before the outage: the
# pool's four, and one per thread that served a page or a socket's hop.
MORE_THAN_IT_HELD = 8
# Long enough for psycopg's pool, left to its defaults, to be backing off
# for longer than a request waits (1, 2, 4, 8, 16 s between attempts).
OUTAGE_SECONDS = 20
# A page or a handshake during the outage: psycopg's default pool timeout
# (30 s) made each wait that long; the example project's is 5 s (10 s before
# Django 6.1).
ANSWERED_WITHIN = 20


@pytest.fixture
def postgres_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(services.postgres_address())
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def example_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, for the served example project."""
    with own_redis_server(tmp_path) as redis:
        yield redis


@pytest.fixture(params=sorted(REUSE))
def served(
    request: pytest.FixtureRequest,
    example_server,
    example_database,
    postgres_proxy: TcpProxy,
    example_redis: RedisServer,
) -> ExampleServer:
    """The example project with a staff user, reaching PostgreSQL only
    through ``postgres_proxy``."""
    env = {
        "DEBUG": "false",
        "SECRET_KEY": PRODUCTION_SECRET_KEY,
        "ALLOWED_HOSTS": "localhost",
        "HTTPS": "false",
        "REDIS_URL": example_redis.url,
        **REUSE[request.param],
    }
    shell(
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.create_user("
        "'staff', password='staff-pass', is_staff=True)",
        **env,
        **example_database,
    )
    return example_server({**env, "DB_PORT": str(postgres_proxy.port)})


def test_after_an_outage_the_next_socket_and_page_work(served, postgres_proxy):
    """Fault: every database connection the server holds is cut, and new
    ones are refused; nothing is asked of the server meanwhile; then
    PostgreSQL is reachable again. Safe: the very next socket and the very
    next page succeed, and so do as many after them as the server could
    have held connections: none of the dead ones is handed out."""
    staff = logged_in_everywhere(served)

    postgres_proxy.cut()
    postgres_proxy.restore()

    assert_next_sockets_and_pages_work(staff)


@pytest.mark.slow
def test_during_an_outage_pages_and_sockets_fail_cleanly_then_work(
    served, postgres_proxy
):
    """Fault: as above, but for OUTAGE_SECONDS a page and a dashboard socket
    are asked for again and again while PostgreSQL is unreachable. Safe:
    each page is the plain error page (nothing about the database in it)
    and each handshake is refused, neither after a long wait; once it is
    back, the next sockets and pages work at once, however long the pool
    had been retrying."""
    staff = logged_in_everywhere(served)

    postgres_proxy.cut()
    cut_at = time.monotonic()
    outage: list[tuple[int, int]] = []
    slowest = 0.0
    while time.monotonic() - cut_at < OUTAGE_SECONDS:
        started = time.monotonic()
        page = staff.get("/products/", timeout=60)
        answered = time.monotonic()
        socket_status, _ = staff.open_socket(timeout=60)
        slowest = max(slowest, answered - started, time.monotonic() - answered)
        assert "Server Error (500)" in page.body, page.body[:500]
        for leak in ("Traceback", "OperationalError", "psycopg", "connection"):
            assert leak not in page.body
        outage.append((page.status, socket_status))
        time.sleep(1)  # Paces the requests; nothing waits on it.
    postgres_proxy.restore()

    print(f"outage: {len(outage)} pages and sockets, slowest {slowest:.1f} s")
    assert set(outage) == {(500, 500)}
    assert slowest < ANSWERED_WITHIN
    assert_next_sockets_and_pages_work(staff)


def logged_in_everywhere(server: ExampleServer) -> Visitor:
    """Staff, logged in, after enough pages and sockets that the server
    holds database connections wherever it keeps them."""
    staff = Visitor(server)
    assert staff.log_in("staff", "staff-pass").status == 302
    for _ in range(MORE_THAN_IT_HELD):
        assert staff.get("/products/").status == 200
        assert staff.open_socket()[0] == 101
    return staff


def assert_next_sockets_and_pages_work(staff: Visitor) -> None:
    first_socket, frame = staff.open_socket()
    first_page = staff.get("/products/").status
    assert (first_socket, first_page) == (101, 200)
    assert frame is not None
    assert frame["type"] == "heartbeat"
    after = [
        (staff.open_socket()[0], staff.get("/products/").status)
        for _ in range(MORE_THAN_IT_HELD)
    ]
    assert after == [(101, 200)] * MORE_THAN_IT_HELD
