"""Promise 5: many server processes share one Redis, and a change made through
any of them reaches dashboards on all of them."""

from __future__ import annotations

from contextlib import ExitStack
from decimal import Decimal

import pytest

from shop_manager.live.consumer import CLOSE_FORBIDDEN, CLOSE_TOO_MANY_SOCKETS
from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product
from tests.helpers.products import product_form
from tests.helpers.servers import HttpSession, dashboard_socket
from tests.helpers.waiting import HANG_BOUND

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_change_posted_to_one_server_reaches_a_dashboard_on_another(
    start_servers, staff_user
):
    server_a, server_b = start_servers("a", "b")
    tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    staff = HttpSession(server_a.url)
    staff.log_in("staff", "staff-pass")

    with dashboard_socket(server_b, staff, after=latest_event_id()) as feed:
        replay = feed.next_frame("batch", timeout=HANG_BOUND)
        assert replay["events"] == []  # Nothing after the id it asked from.

        status, location, _ = staff.request(
            tea.get_absolute_url(), product_form(tea, quantity=9)
        )
        assert (status, location) == (302, tea.get_absolute_url())

        # The client never asks for anything: only the live path through
        # Redis can bring this frame from process A to process B.
        event = feed.next_frame("event", timeout=HANG_BOUND)

    assert event["action"] == "updated"
    assert event["product"]["name"] == "Tea"
    assert event["changes"] == {"quantity": {"old": 4, "new": 9, "label": "quantity"}}
    assert event["actor"] == "staff"
    assert event["message"] == "Product “Tea” was updated: quantity 4 → 9"
    assert event["id"] == latest_event_id()


def test_a_password_change_closes_the_users_sockets_on_every_server(
    start_servers, staff_user, django_user_model
):
    """Attack: a stolen session watches through another server process than
    the one the owner uses. Safe: changing the password closes the user's
    sockets on every process (one broadcast over Redis), and only theirs."""
    server_a, server_b = start_servers("a", "b")
    django_user_model.objects.create_user(
        username="other", password="other-pass", is_staff=True
    )
    owner, thief, other = (
        HttpSession(server_a.url),
        HttpSession(server_b.url),
        HttpSession(server_b.url),
    )
    owner.log_in("staff", "staff-pass")
    thief.log_in("staff", "staff-pass")
    other.log_in("other", "other-pass")
    after = latest_event_id()

    with (
        dashboard_socket(server_a, owner, after=after) as owners_feed,
        dashboard_socket(server_b, thief, after=after) as thiefs_feed,
        dashboard_socket(server_b, other, after=after) as others_feed,
    ):
        for feed in (owners_feed, thiefs_feed, others_feed):
            feed.next_frame("batch", timeout=HANG_BOUND)

        staff_user.set_password("a-new-and-long-passphrase")
        staff_user.save()

        assert owners_feed.closed_with(timeout=HANG_BOUND) == CLOSE_FORBIDDEN
        assert thiefs_feed.closed_with(timeout=HANG_BOUND) == CLOSE_FORBIDDEN
        Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
        assert (
            others_feed.next_frame("event", timeout=HANG_BOUND)["action"] == "created"
        )


def test_no_event_logged_after_a_demotion_reaches_the_users_sockets_on_any_server(
    start_servers, staff_user, django_user_model
):
    """Promise 6 across processes: a staff member watches on two server
    processes; they are demoted and, at once, a supplier number changes.
    Safe: neither of their sockets receives that change (only heartbeats,
    then 4403), while another watcher on the second server receives it live."""
    server_a, server_b = start_servers("a", "b")
    django_user_model.objects.create_user(
        username="other", password="other-pass", is_staff=True
    )
    tea = Product.objects.create(
        name="Tea", price=Decimal("3.50"), supplier_number="SUP-BEFORE", quantity=4
    )
    on_a, on_b, other = (
        HttpSession(server_a.url),
        HttpSession(server_b.url),
        HttpSession(server_b.url),
    )
    on_a.log_in("staff", "staff-pass")
    on_b.log_in("staff", "staff-pass")
    other.log_in("other", "other-pass")
    after = latest_event_id()

    with (
        dashboard_socket(server_a, on_a, after=after) as feed_a,
        dashboard_socket(server_b, on_b, after=after) as feed_b,
        dashboard_socket(server_b, other, after=after) as others_feed,
    ):
        for feed in (feed_a, feed_b, others_feed):
            feed.next_frame("batch", timeout=HANG_BOUND)

        staff_user.is_staff = False
        staff_user.save()
        tea.supplier_number = "SUP-AFTER-DEMOTION"
        tea.save()

        event = others_feed.next_frame("event", timeout=HANG_BOUND)
        assert event["changes"]["supplier_number"]["new"] == "SUP-AFTER-DEMOTION"
        # Any frame but a heartbeat before the close fails here.
        assert feed_a.closed_with(timeout=HANG_BOUND) == CLOSE_FORBIDDEN
        assert feed_b.closed_with(timeout=HANG_BOUND) == CLOSE_FORBIDDEN


def test_a_users_sockets_are_counted_across_servers(start_servers, staff_user):
    """Attack: one staff account spreads sockets over every server process
    to get past a per-process limit. Safe: the limit (SOCKETS_PER_USER, 20)
    counts them in the shared Redis: 10 on one server and 10 on the other
    fill it, and the next, on either, is closed with 4429."""
    server_a, server_b = start_servers("a", "b")
    staff = HttpSession(server_a.url)
    staff.log_in("staff", "staff-pass")
    after = latest_event_id()
    with ExitStack() as stack:
        for server in [server_a] * 10 + [server_b] * 10:
            feed = stack.enter_context(dashboard_socket(server, staff, after=after))
            feed.next_frame("batch", timeout=HANG_BOUND)
        for server in (server_a, server_b):
            with dashboard_socket(server, staff, after=after) as refused:
                assert refused.closed_with(timeout=HANG_BOUND) == CLOSE_TOO_MANY_SOCKETS
