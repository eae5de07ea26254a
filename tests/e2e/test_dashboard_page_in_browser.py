"""The dashboard page's own behaviour in Chromium: what the connection badge
says to screen readers while offline, loading older changes, and the page in
the browser's language."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product, ProductEvent
from tests.helpers.servers import off_main_thread

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

# Records every text the live region and the countdown take from now on.
RECORD_TEXTS = """() => {
  window.smLiveRegion = [];
  window.smCountdown = [];
  const watch = (selector, texts) => {
    const node = document.querySelector(selector);
    new MutationObserver(() => texts.push(node.textContent)).observe(
      node, { childList: true, characterData: true, subtree: true });
  };
  watch("[data-connection]", window.smLiveRegion);
  watch("[data-reconnect-countdown]", window.smCountdown);
}"""


def test_the_live_region_announces_going_offline_once_while_the_countdown_ticks(
    start_servers, dashboard
):
    """The badge is a polite live region; it used to be rewritten every
    second with "reconnecting in N s", so a screen reader repeated it."""
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    # The longest backoff every time, so a countdown spans several seconds.
    dashboard.page.add_init_script("Math.random = () => 0.999;")
    dashboard.log_in(server, "staff", "staff-pass")
    dashboard.page.evaluate(RECORD_TEXTS)
    countdown = dashboard.page.locator("[data-reconnect-countdown]")

    server.kill()
    # Attempts wait 0.5, 1, 2, 4 s: three different whole seconds shown.
    dashboard.page.wait_for_function(
        "new Set(window.smCountdown).size >= 3", timeout=30_000
    )

    expect(countdown).to_be_visible()
    expect(countdown).to_contain_text("Next attempt in")
    assert countdown.evaluate("(node) => node.closest('[aria-live]')") is None
    assert dashboard.status.get_attribute("aria-live") == "polite"
    assert dashboard.page.evaluate("window.smLiveRegion") == ["Offline, reconnecting…"]
    assert "second" not in dashboard.status.inner_text()

    server.start()  # Back: the countdown goes, the live region says so once.
    expect(dashboard.status).to_have_text("Live", timeout=30_000)
    expect(countdown).to_be_hidden()
    assert dashboard.page.evaluate("window.smLiveRegion") == [
        "Offline, reconnecting…",
        "Live",
    ]
    assert dashboard.errors == []


def make_events(count: int) -> list[int]:
    def create() -> list[int]:
        for n in range(count):
            Product.objects.create(name=f"P{n:02}", price=Decimal("1"), quantity=n)
        return list(ProductEvent.objects.order_by("id").values_list("id", flat=True))

    return off_main_thread(create)


def test_load_older_changes_shows_the_whole_log_in_order_each_once(
    start_servers, dashboard
):
    """Also: the rows it brings are not read out (the feed used to be a live
    region, so they would have been); a change arriving live is."""
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    ids = make_events(60)
    dashboard.log_in(server, "staff", "staff-pass")
    rows = dashboard.feed.locator("> li")
    expect(rows).to_have_count(50)  # DASHBOARD_EVENTS
    button = dashboard.page.get_by_role("button", name="Load older changes")

    button.click()

    expect(rows).to_have_count(60)
    expect(button).to_be_hidden()
    shown = rows.evaluate_all("(items) => items.map((item) => Number(item.dataset.id))")
    assert shown == ids[::-1]
    expect(dashboard.row(ids[0])).to_contain_text("Product “P00” was created")
    # Keyboard focus stays in the feed, on the first row it brought.
    assert dashboard.page.evaluate("document.activeElement.dataset.id") == str(ids[9])
    announcer = dashboard.page.locator("[data-feed-announcer]")
    assert announcer.get_attribute("aria-live") == "polite"
    assert dashboard.feed.evaluate("(feed) => feed.closest('[aria-live]')") is None
    expect(announcer).to_have_text("")

    # Live changes still arrive on top.
    off_main_thread(
        lambda: Product.objects.create(name="Late", price=Decimal("1"), quantity=1)
    )
    late = dashboard.row(off_main_thread(latest_event_id))
    expect(late).to_contain_text("Product “Late” was created")
    expect(rows).to_have_count(61)
    expect(announcer).to_have_text("Product “Late” was created")
    assert dashboard.errors == []


def test_a_frame_lost_in_transit_is_filled_in_shown_and_counted_once(
    start_servers, dashboard
):
    """The socket's gap fill on the dashboard (live-socket.js): the change
    after a lost frame arrives live ahead of the gap; the page fetches the
    gap, then shows both in order, moves the tiles once per change, and
    reads out only the change that came live."""
    from playwright.sync_api import WebSocketRoute, expect

    (server,) = start_servers("a")
    lost: list[int] = []
    asked: list[dict] = []
    # Once live, heartbeats are lost too: else one could start the gap fill
    # before "Found" arrives, and "Found" would come only in the fill.
    live: list[bool] = []

    def arrives(frame: dict) -> bool:
        if frame.get("type") == "event" and frame["product"]["name"] == "Lost":
            lost.append(frame["id"])
            return False
        return not (live and frame.get("type") == "heartbeat")

    def lose_one_event(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def to_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "frames":
                frame["frames"] = [part for part in frame["frames"] if arrives(part)]
            elif not arrives(frame):
                return
            page_side.send(json.dumps(frame))

        def to_server(message: str | bytes) -> None:
            asked.append(json.loads(message))
            server_side.send(message)

        server_side.on_message(to_page)
        page_side.on_message(to_server)

    dashboard.page.route_web_socket(re.compile(r"/ws/products/"), lose_one_event)
    dashboard.log_in(server, "staff", "staff-pass")
    live.append(True)
    products = dashboard.page.locator('[data-tile="products"] [data-tile-value]')
    before = int(products.inner_text())
    held = int(
        dashboard.page.locator("[data-shop-manager-dashboard]").get_attribute(
            "data-last-id"
        )
        or 0
    )

    def create_two() -> list[int]:
        for name in ("Lost", "Found"):
            Product.objects.create(name=name, price=Decimal("1"), quantity=5)
        return list(
            ProductEvent.objects.order_by("-id").values_list("id", flat=True)[:2]
        )[::-1]

    lost_id, found_id = off_main_thread(create_two)
    expect(dashboard.row(found_id)).to_contain_text("Product “Found” was created")
    expect(dashboard.row(lost_id)).to_contain_text("Product “Lost” was created")
    assert lost == [lost_id]
    # Ids are not dense here (earlier tests' rows are gone): asked from what
    # the page held.
    assert {"type": "fetch", "after": held} in asked
    rows = dashboard.feed.locator("> li")
    ids = rows.evaluate_all("(items) => items.map((item) => Number(item.dataset.id))")
    assert ids == sorted(ids, reverse=True)
    assert ids.count(lost_id) == ids.count(found_id) == 1
    expect(products).to_have_text(str(before + 2))
    announcer = dashboard.page.locator("[data-feed-announcer]")
    expect(announcer).to_have_text("Product “Found” was created")
    assert dashboard.errors == []


def test_the_dashboard_speaks_the_browsers_language(start_servers, browser):
    """Every word the script writes comes from the server's catalogue, in the
    language the browser asks for (the test project uses LocaleMiddleware)."""
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = off_main_thread(
        lambda: Product.objects.create(name="Tea", price=Decimal("3"), quantity=4)
    )
    context = browser.new_context(locale="de-DE")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.url}/accounts/login/?next=/dashboard/products/")
        page.locator("#id_username").fill("staff")
        page.locator("#id_password").fill("staff-pass")
        page.get_by_role("button", name="Anmelden").click()
        expect(page).to_have_url(f"{server.url}/dashboard/products/")

        status = page.locator("[data-connection]")
        expect(status).to_have_text("Verbunden")
        created = page.locator("[data-feed] > li").first
        expect(created).to_contain_text("Produkt „Tea“ wurde erstellt")
        expect(created.locator(".sm-feed-action")).to_have_text("Erstellt")
        expect(created).to_contain_text("von niemandem (System)")

        def update() -> int:
            tea.quantity = 9
            tea.save()
            return latest_event_id()

        updated = page.locator(f'[data-feed] > li[data-id="{off_main_thread(update)}"]')
        expect(updated).to_contain_text("Produkt „Tea“ wurde geändert")
        expect(updated.locator(".sm-feed-action")).to_have_text("Geändert")
        # The live frame is worded in the site's language (English here); the
        # script words the change in the page's, says when in the page's
        # language ("jetzt": now), and dates it as pages do on hover.
        expect(updated.locator(".sm-feed-changes")).to_have_text("Menge: 4 → 9")
        expect(updated.locator("time")).to_have_text("jetzt")
        expect(updated.locator("time")).to_have_attribute(
            "title", re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
        )
        expect(page.get_by_label("Geändert")).to_be_checked()
        assert errors == []
    finally:
        context.close()
