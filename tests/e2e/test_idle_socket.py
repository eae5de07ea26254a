"""An idle dashboard stays connected on real Redis.

The trap: redis-py 8 defaults ``socket_timeout`` to 5 s, which cuts
channels-redis' blocking reads, and the server then drops every idle socket
with 1011. Half a minute with no events must leave the socket open and live.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product
from tests.helpers.servers import HttpSession, dashboard_socket
from tests.helpers.waiting import HANG_BOUND

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

IDLE_SECONDS = 32


def test_idle_socket_stays_open_and_still_receives_events(start_servers, staff_user):
    (server,) = start_servers("a")
    tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    staff = HttpSession(server.url)
    staff.log_in("staff", "staff-pass")
    latest = latest_event_id()

    with dashboard_socket(server, staff, after=latest) as feed:
        feed.next_frame("batch", timeout=HANG_BOUND)
        started = time.monotonic()
        feed.only_heartbeats_for(IDLE_SECONDS)
        assert time.monotonic() - started >= IDLE_SECONDS
        # Heartbeats (every 5 s) kept reporting the latest id all along.
        assert len(feed.heartbeats) >= IDLE_SECONDS // 5 - 1
        assert set(feed.heartbeats) == {latest}

        tea.quantity = 9
        tea.save()
        event = feed.next_frame("event", timeout=HANG_BOUND)

    assert event["changes"] == {"quantity": {"old": 4, "new": 9, "label": "quantity"}}
    server.check_alive()
