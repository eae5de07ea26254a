"""Fault cases that need real server processes: PostgreSQL cut off from a
running daphne, and daphne killed and restarted while changes are made.

They live here, beside the e2e fixtures that start daphne on the test
database and a private Redis; the rest of the fault suite is tests/faults/.
Already covered here: a browser dashboard across a server kill and restart
(test_browser.py::test_change_made_while_the_server_was_down_appears_once)
and across a Redis stop and start
(test_browser.py::test_change_saved_while_redis_was_down_reaches_the_dashboard).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product, ProductEvent
from tests.helpers import services
from tests.helpers.faults import TcpProxy
from tests.helpers.servers import FeedClient, HttpSession, dashboard_socket, wait_until
from tests.helpers.waiting import HANG_BOUND

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.fault]

# The dashboard's heartbeat interval (HEARTBEAT_SECONDS) is 5 s by default.
A_FEW_HEARTBEATS = 20


@pytest.fixture
def postgres_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(services.postgres_address())
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()


def frame_where(feed: FeedClient, wanted: Any, timeout: float) -> dict[str, Any]:
    """The first frame ``wanted`` accepts; any other frame is skipped."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            frame: dict[str, Any] = json.loads(feed.connection.recv(timeout=remaining))
        except TimeoutError:
            break
        if wanted(frame):
            return frame
    raise AssertionError(f"no matching frame within {timeout} s")


def test_a_server_cut_off_from_postgresql_fails_cleanly_and_recovers(
    start_servers, postgres_proxy, staff_user
):
    """Fault: the database becomes unreachable from a running server (every
    connection dropped, new ones refused), then comes back. Safe outcome:
    meanwhile pages answer at once with the plain server error page, which
    names no database, host or exception; the server stays up, logs the failed
    heartbeat and keeps the dashboard socket open; once the database is back, pages work again
    and the dashboard's heartbeat resumes, reporting a change made meanwhile,
    with nothing restarted."""
    (server,) = start_servers("a", env={"DB_PORT": str(postgres_proxy.port)})
    Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    staff = HttpSession(server.url)
    staff.log_in("staff", "staff-pass")
    assert staff.request("/products/")[0] == 200

    with dashboard_socket(server, staff, after=latest_event_id()) as feed:
        feed.next_frame("batch", timeout=HANG_BOUND)
        postgres_proxy.cut()

        status, _, body = staff.request("/products/")
        assert status == 500
        assert "Server Error" in body
        for leak in ("Traceback", "OperationalError", "psycopg", "5432", "connect"):
            assert leak not in body
        # Made directly on the database, which only the server cannot reach.
        coffee = Product.objects.create(name="Coffee", price=Decimal("2.00"))
        made_meanwhile = ProductEvent.objects.get(product_pk=coffee.pk).pk
        wait_until(
            lambda: "Dashboard heartbeat failed" in server.log_tail(200),
            timeout=A_FEW_HEARTBEATS,
            what="a heartbeat to fail on the missing database",
        )
        server.check_alive()

        postgres_proxy.restore()
        status, _, body = staff.request("/products/")
        assert status == 200
        assert "Coffee" in body
        heartbeat = frame_where(
            feed,
            lambda f: f["type"] == "heartbeat" and f["last_id"] == made_meanwhile,
            timeout=A_FEW_HEARTBEATS,
        )
    assert heartbeat["last_id"] == made_meanwhile
    server.check_alive()


def test_changes_made_while_the_server_was_down_reach_a_reconnecting_client(
    start_servers, staff_user
):
    """Fault: the server process is killed (SIGKILL) under a connected
    dashboard, products are created, changed and deleted while it is down,
    and it is started again. Safe outcome: a client reconnecting with
    ``?after=<last id it saw>`` gets exactly those changes, once, in order, and
    then live ones with nothing replayed twice."""
    (server,) = start_servers("a")
    tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    coffee = Product.objects.create(name="Coffee", price=Decimal("2.00"))
    staff = HttpSession(server.url)
    staff.log_in("staff", "staff-pass")

    with dashboard_socket(server, staff, after=latest_event_id()) as feed:
        feed.next_frame("batch", timeout=HANG_BOUND)
        tea.quantity = 5
        tea.save()
        last_seen = feed.next_frame("event", timeout=HANG_BOUND)["id"]
        server.kill()
        # Imported here: the e2e dependency group is only in the e2e env.
        from websockets.exceptions import ConnectionClosed

        with pytest.raises(ConnectionClosed):
            feed.connection.recv(timeout=HANG_BOUND)

    tea.quantity = 6
    tea.save()
    Product.objects.create(name="Milk", price=Decimal("1.00"))
    coffee.delete()
    missed = list(
        ProductEvent.objects.filter(id__gt=last_seen).values_list(
            "id", "action", "product_name"
        )
    )
    assert [(action, name) for _, action, name in missed] == [
        ("updated", "Tea"),
        ("created", "Milk"),
        ("deleted", "Coffee"),
    ]

    server.start()  # Same port, as the page expects.
    with dashboard_socket(server, staff, after=last_seen) as feed:
        batch = feed.next_frame("batch", timeout=HANG_BOUND)
        assert [e["id"] for e in batch["events"]] == [e[0] for e in missed]
        assert batch["events"][0]["changes"] == {
            "quantity": {"old": 5, "new": 6, "label": "quantity"}
        }
        assert batch["events"][2]["product"]["url"] is None  # Deleted.
        assert (batch["until"], batch["more"]) == (missed[-1][0], False)

        tea.quantity = 7
        tea.save()
        # next_frame fails on anything but heartbeats before it: no repeats.
        live = feed.next_frame("event", timeout=HANG_BOUND)
    assert live["id"] == latest_event_id()
    assert live["changes"] == {"quantity": {"old": 6, "new": 7, "label": "quantity"}}
