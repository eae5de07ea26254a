"""Stock alerts in Chromium: a drop to zero raises an alert naming the
product (role="alert") and moves the tiles, live; the feed filters by
product and person; dismissing the alert takes it down."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop_manager.models import Product
from tests.helpers.servers import off_main_thread

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_a_drop_to_zero_raises_an_alert_and_moves_the_tiles_live(
    start_servers, dashboard
):
    from playwright.sync_api import expect

    tea = off_main_thread(
        lambda: Product.objects.create(name="Tea", price=Decimal("3"), quantity=9)
    )
    (server,) = start_servers("a")
    dashboard.log_in(server, "staff", "staff-pass")
    page = dashboard.page
    out_of_stock = page.locator('[data-tile="out_of_stock"] [data-tile-value]')
    expect(out_of_stock).to_have_text("0")
    expect(page.get_by_role("alert")).to_have_count(0)

    def sell_out() -> None:
        tea.quantity = 0
        tea.save()

    off_main_thread(sell_out)

    alert = page.get_by_role("alert")
    # Bounded past one heartbeat (HEARTBEAT_SECONDS, 5): a frame lost right
    # after connecting comes with the gap fill the heartbeat starts, and the
    # alert with it.
    expect(alert).to_contain_text("Tea", timeout=15_000)
    expect(alert).to_contain_text("Out of stock")
    expect(out_of_stock).to_have_text("1")
    expect(page.locator('[data-tile="changes_today"] [data-tile-value]')).to_have_text(
        "2"
    )

    # The feed's filters: by product and by person (both changes by nobody).
    rows = page.locator("[data-feed] > li:visible")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("time")).to_have_text("now")
    page.get_by_label("Product", exact=True).fill("coffee")
    expect(rows).to_have_count(0)
    expect(page.locator("[data-feed-empty]")).to_have_text(
        "No changes match the chosen filters."
    )
    page.get_by_label("Product", exact=True).fill("te")
    page.get_by_label("Person").select_option("-")
    expect(rows).to_have_count(2)

    page.get_by_role("button", name="Dismiss the alert for Tea").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("[data-alerts-empty]")).to_be_visible()
    # The condition stands: the tile still counts it.
    expect(out_of_stock).to_have_text("1")
    assert dashboard.errors == []
