"""Stored XSS in a real browser: hostile product names on the live dashboard
run no script, whether they arrive in the page's initial data or over the
socket.

Part of the security suite (marker ``security``), kept here because it needs
this folder's fixtures (daphne, a private Redis, chromium); the HTTP-level
escaping cases are in ``tests/security/test_escaping.py``.
"""

from __future__ import annotations

import pytest

from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product
from tests.helpers.servers import off_main_thread

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.security]

# Each sets window.__xss if the browser ever treats it as markup or script.
BREAKS_OUT_OF_JSON = "</script><script>window.__xss=true</script>"
HOSTILE_NAMES = [
    '<img src=x onerror="window.__xss=true">',
    "<script>window.__xss=true</script>",
    '"><svg onload="window.__xss=true">',
    "{{ 7*7 }}",
]


def create(name: str) -> int:
    def save() -> int:
        Product.objects.create(name=name, price="1.00", quantity=1)
        return latest_event_id()

    return off_main_thread(save)


def rename(old: str, new: str) -> int:
    def save() -> int:
        product = Product.objects.get(name=old)
        product.name = new
        product.save()
        return latest_event_id()

    return off_main_thread(save)


def test_hostile_names_on_the_live_dashboard_run_no_script(start_servers, dashboard):
    """Attack: a product named like markup or a ``</script>`` breakout is
    created or renamed while a staff member watches the dashboard, or before
    they open it. Safe: every name shows as literal text, no element or script
    from a name appears, no dialog opens and ``window.__xss`` stays false."""
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    # Before the page loads, so a payload run while parsing the page counts.
    dashboard.page.add_init_script("window.__xss = false")
    rows = {create(BREAKS_OUT_OF_JSON): f"Product “{BREAKS_OUT_OF_JSON}” was created"}
    dashboard.log_in(server, "staff", "staff-pass")

    for name in HOSTILE_NAMES:  # Live, over the socket.
        rows[create(name)] = f"Product “{name}” was created"
    renamed = "</b><i>renamed</i>"
    rows[rename(HOSTILE_NAMES[0], renamed)] = f"Name: {HOSTILE_NAMES[0]} → {renamed}"

    def assert_shown_and_inert() -> None:
        for event_id, text in rows.items():
            expect(dashboard.row(event_id)).to_contain_text(text)
        expect(dashboard.feed.locator("img, svg, script, b, i")).to_have_count(0)
        assert dashboard.page.evaluate("window.__xss") is False
        assert dashboard.dialogs == []
        assert dashboard.errors == []

    assert_shown_and_inert()
    dashboard.page.reload()  # Now every name comes from the initial data.
    expect(dashboard.status).to_have_text("Live")
    assert_shown_and_inert()


def test_hostile_names_on_the_live_product_list_run_no_script(start_servers, dashboard):
    """Attack: products named like markup are created and renamed while a
    staff member has the product list open. Safe: the notice and the rows
    show each name as text; nothing from a name becomes an element or runs."""
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    page = dashboard.page
    page.add_init_script("window.__xss = false")
    create("Tea")
    page.goto(f"{server.url}/accounts/login/?next=/products/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("staff-pass")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-live-status]")).to_have_attribute(
        "data-state", "live", timeout=15_000
    )

    for name in [BREAKS_OUT_OF_JSON, *HOSTILE_NAMES]:
        create(name)
    # Changes made here, outside the servers, may reach the page only at the
    # next heartbeat's gap fill (HEARTBEAT_SECONDS): waited for generously.
    notice = page.locator("[data-live-notice]")
    for name in [BREAKS_OUT_OF_JSON, *HOSTILE_NAMES]:
        expect(notice).to_contain_text(name, timeout=15_000)
    rename("Tea", HOSTILE_NAMES[1])
    expect(page.locator("tbody tr").first).to_contain_text(
        HOSTILE_NAMES[1], timeout=15_000
    )
    notice.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr")).to_have_count(len(HOSTILE_NAMES) + 2)
    written = page.locator("tbody, [data-live-notice]")
    expect(written.locator("img, svg, script, b, i")).to_have_count(0)
    assert page.evaluate("window.__xss") is False
    assert dashboard.dialogs == []
    assert dashboard.errors == []
