"""A dashboard's gap fill that waits on a slow database, under the server the
example project's container runs (uvicorn, its ``websockets-sansio``
protocol): the server must keep hearing that client meanwhile.

uvicorn stops reading a socket after each message it hands the application
until the application asks for the next one. A consumer that answered a
``fetch`` before asking for the next message read nothing from its client
once a second message came (the client asking again), for as long as the
database took: not the pongs to uvicorn's keepalive pings
(after 20 s the socket was closed with 1011), nor a close. Under load after
a Redis or PostgreSQL outage, when every dashboard fetches at once, most of
a process's sockets were cut that way (found by ``make chaos``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.example_site import (
    PRODUCTION_SECRET_KEY,
    ExampleServer,
    Visitor,
    shell,
)

pytestmark = pytest.mark.postgres

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
# Bounds on waits for conditions, never the expected durations.
WITHIN = 20.0


@pytest.fixture
def served(example_server, example_database) -> ExampleServer:
    env = {
        "DEBUG": "false",
        "SECRET_KEY": PRODUCTION_SECRET_KEY,
        "ALLOWED_HOSTS": "localhost",
        "HTTPS": "false",
    }
    shell(
        "from django.contrib.auth import get_user_model\n"
        "import sys\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "from bench_data import load_products\n"
        "get_user_model().objects.create_user("
        "'staff', password='staff-pass', is_staff=True)\n"
        "load_products(3)\n",  # Three products, one `created` event each.
        **env,
        **example_database,
    )
    return example_server(env)


@pytest.fixture
def event_log_locked(example_database: dict[str, str]) -> Iterator[Any]:
    """A transaction holding the change log locked against readers, as a
    long migration or a stuck writer would; rolled back to release it."""
    import psycopg

    connection = psycopg.connect(
        host=example_database.get("DB_HOST", "127.0.0.1"),
        port=int(example_database.get("DB_PORT", "5432")),
        user=example_database.get("POSTGRES_USER", "postgres"),
        password=example_database.get("POSTGRES_PASSWORD", ""),
        dbname=example_database["POSTGRES_DB"],
    )
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


def waiting_on_the_log(example_database: dict[str, str]) -> int:
    """How many sessions wait for the change log's lock."""
    import psycopg

    with psycopg.connect(
        host=example_database.get("DB_HOST", "127.0.0.1"),
        port=int(example_database.get("DB_PORT", "5432")),
        user=example_database.get("POSTGRES_USER", "postgres"),
        password=example_database.get("POSTGRES_PASSWORD", ""),
        dbname=example_database["POSTGRES_DB"],
    ) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted "
            "AND relation = 'shop_manager_productevent'::regclass"
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_client_is_heard_while_its_gap_fill_waits_on_the_database(
    served: ExampleServer, event_log_locked: Any, example_database: dict[str, str]
) -> None:
    """Fault: the change log is locked, so the socket's ``fetch`` waits on
    the database, and the client asks again. Safe: meanwhile the server
    still reads from that client (its ping is answered, as uvicorn's
    keepalive needs its pongs), and the fetch is answered once the database
    is back, on the same socket."""
    staff = Visitor(served)
    assert staff.log_in("staff", "staff-pass").status == 302
    cookie = "; ".join(f"{k}={v}" for k, v in staff.cookies.items())

    async def scenario() -> tuple[float | None, int, dict[str, Any]]:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        async with connect(
            f"ws://127.0.0.1:{served.port}/ws/products/",
            origin=Origin(staff.origin),
            additional_headers={"Cookie": cookie},
            proxy=None,
            ping_interval=None,
            open_timeout=WITHIN,
        ) as socket:
            opening = json.loads(await asyncio.wait_for(socket.recv(), WITHIN))
            assert opening["type"] == "heartbeat"

            event_log_locked.execute(
                "LOCK TABLE shop_manager_productevent IN ACCESS EXCLUSIVE MODE"
            )
            await socket.send(json.dumps({"type": "fetch", "after": 0}))
            deadline = time.monotonic() + WITHIN
            while not await asyncio.to_thread(waiting_on_the_log, example_database):
                assert time.monotonic() < deadline, "the fetch never reached the log"
                await asyncio.sleep(0.05)

            # The client asks again (no answer for a while, or a new gap):
            # the server now holds a message the consumer has not taken.
            await socket.send(json.dumps({"type": "fetch", "after": 0}))
            sent = time.monotonic()
            pong = await socket.ping()
            try:
                await asyncio.wait_for(pong, WITHIN)
                heard_after: float | None = time.monotonic() - sent
            except TimeoutError:
                heard_after = None
            event_log_locked.rollback()  # The database answers again.

            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), WITHIN))
                frames = message["frames"] if message["type"] == "frames" else [message]
                batches = [frame for frame in frames if frame["type"] == "batch"]
                if batches:
                    return heard_after, opening["last_id"], batches[0]

    heard_after, last_id, batch = asyncio.run(scenario())

    assert heard_after is not None, "the server stopped reading the socket"
    assert len(batch["events"]) == 3
    assert batch["events"][-1]["id"] == batch["until"] == last_id
