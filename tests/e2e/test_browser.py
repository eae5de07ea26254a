"""The live dashboard in a real browser (Debian's chromium, via Playwright)
against real daphne processes on PostgreSQL and Redis."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product
from tests.helpers.products import product_form
from tests.helpers.servers import HttpSession, off_main_thread

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

# A server restart or a Redis outage costs a few reconnect attempts, each
# after an exponential, jittered backoff.
RECOVERY_MS = 30_000


def create_product(name: str, quantity: int) -> Product:
    return off_main_thread(
        lambda: Product.objects.create(
            name=name, price=Decimal("3.50"), quantity=quantity
        )
    )


def set_quantity(product: Product, quantity: int) -> int:
    """Change the quantity through the ORM (no request, no server) and
    return the logged event's id."""

    def save() -> int:
        product.refresh_from_db()
        product.quantity = quantity
        product.save()
        return latest_event_id()

    return off_main_thread(save)


def test_staff_sees_changes_made_elsewhere_live_and_filters_them(
    start_servers, dashboard
):
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = create_product("Tea", quantity=4)
    created_id = off_main_thread(latest_event_id)
    dashboard.log_in(server, "staff", "staff-pass")
    created = dashboard.row(created_id)
    expect(created).to_contain_text("Product “Tea” was created")

    colleague = HttpSession(server.url)
    colleague.log_in("staff", "staff-pass")
    status, _, _ = colleague.request(
        tea.get_absolute_url(), product_form(tea, quantity=9)
    )
    assert status == 302

    updated = dashboard.row(off_main_thread(latest_event_id))
    expect(updated).to_contain_text("Product “Tea” was updated")
    expect(updated).to_contain_text("quantity: 4 → 9")
    # The diff is listed once, not repeated in the headline.
    expect(updated.get_by_text("4 → 9")).to_have_count(1)
    expect(updated).to_contain_text("by staff")
    # Newest first.
    expect(dashboard.feed.locator("> li").first).to_contain_text("quantity: 4 → 9")

    dashboard.page.get_by_label("Updated").uncheck()
    expect(updated).to_be_hidden()
    expect(created).to_be_visible()
    # A change arriving while its action is filtered out stays hidden too.
    later = dashboard.row(set_quantity(tea, 12))
    expect(later).to_have_count(1)
    expect(later).to_be_hidden()

    dashboard.page.get_by_label("Created").uncheck()
    expect(created).to_be_hidden()
    expect(
        dashboard.page.get_by_text("No changes match the chosen filters")
    ).to_be_visible()

    dashboard.page.get_by_label("Updated").check()
    expect(updated).to_be_visible()
    expect(later).to_contain_text("quantity: 9 → 12")
    expect(later).to_be_visible()
    expect(created).to_be_hidden()
    assert dashboard.errors == []


def test_markup_in_a_product_name_is_shown_as_literal_text(start_servers, dashboard):
    from playwright.sync_api import expect

    markup = "<img src=x onerror=alert(1)>"
    (server,) = start_servers("a")
    dashboard.log_in(server, "staff", "staff-pass")

    create_product(markup, quantity=1)  # Arrives live, over the socket.
    sentence = f"Product “{markup}” was created"
    expect(dashboard.feed.get_by_text(sentence)).to_be_visible()
    expect(dashboard.feed.locator("img")).to_have_count(0)

    dashboard.page.reload()  # Now rendered from the page's initial data.
    expect(dashboard.status).to_have_text("Live")
    expect(dashboard.feed.get_by_text(sentence)).to_be_visible()
    expect(dashboard.feed.locator("img")).to_have_count(0)
    assert dashboard.page.locator("img").count() == 0
    assert dashboard.dialogs == []
    assert dashboard.errors == []


def test_change_made_while_the_server_was_down_appears_once(start_servers, dashboard):
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = create_product("Tea", quantity=9)
    created_id = off_main_thread(latest_event_id)
    dashboard.log_in(server, "staff", "staff-pass")

    server.kill()
    expect(dashboard.status).to_have_attribute("data-state", "reconnecting")
    expect(dashboard.status).to_contain_text("Offline")
    missed_id = set_quantity(tea, 12)
    missed = dashboard.row(missed_id)

    server.start()  # Same port: where the page reconnects.
    expect(dashboard.status).to_have_text("Live", timeout=RECOVERY_MS)
    expect(missed).to_contain_text("quantity: 9 → 12")

    # Once the next live change is shown, any duplicate would be too.
    next_id = set_quantity(tea, 13)
    expect(dashboard.row(next_id)).to_contain_text("quantity: 12 → 13")
    expect(dashboard.feed.get_by_text("quantity: 9 → 12")).to_have_count(1)
    # Every change once, newest first: nothing replayed twice.
    rows = dashboard.feed.locator("> li")
    expect(rows).to_have_count(3)
    ids = rows.evaluate_all("(items) => items.map((item) => Number(item.dataset.id))")
    assert ids == [next_id, missed_id, created_id]
    assert dashboard.errors == []


def test_change_saved_while_redis_was_down_reaches_the_dashboard(
    start_servers, private_redis, dashboard
):
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = create_product("Tea", quantity=4)
    dashboard.log_in(server, "staff", "staff-pass")
    staff = HttpSession(server.url)
    staff.log_in("staff", "staff-pass")

    private_redis.stop()
    started = time.monotonic()
    status, _, _ = staff.request(tea.get_absolute_url(), product_form(tea, quantity=9))
    # The save succeeds, without waiting long on the missing Redis.
    assert status == 302
    assert time.monotonic() - started < 5
    saved = off_main_thread(lambda: Product.objects.get(pk=tea.pk))
    assert saved.quantity == 9

    private_redis.start()  # Same port.
    missed = dashboard.feed.locator("> li", has_text="quantity: 4 → 9")
    expect(missed).to_be_visible(timeout=RECOVERY_MS)
    expect(dashboard.status).to_have_text("Live", timeout=RECOVERY_MS)
    # And live delivery works again, not only the replay.
    expect(dashboard.row(set_quantity(tea, 10))).to_contain_text("quantity: 9 → 10")
    expect(missed).to_have_count(1)
    assert dashboard.errors == []


def test_without_javascript_the_page_shows_changes_and_says_it_is_not_live(
    start_servers, browser
):
    """With scripting off (or the script a 404) the page used to say
    "Connecting…" forever and "No changes yet" beside existing changes."""
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    create_product("Tea", quantity=4)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/accounts/login/?next=/dashboard/products/")
        page.get_by_label("Username").fill("staff")
        page.get_by_label("Password").fill("staff-pass")
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{server.url}/dashboard/products/")
        expect(page.locator("[data-connection]")).to_have_text(
            "Live updates need JavaScript; showing the most recent change."
        )
        rows = page.locator("[data-feed] > li")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("Product “Tea” was created")
        expect(page.get_by_text("No changes yet")).to_be_hidden()
        expect(page.get_by_role("group", name="Show")).to_be_hidden()
    finally:
        context.close()
