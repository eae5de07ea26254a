"""The pages the docs' overview shows, on a desktop screen, with demo data:
the product list, a product page and the live dashboard receiving changes
made by a colleague.

With ``SHOP_MANAGER_SCREENSHOTS=docs/images`` the test also saves each page
as a PNG there (what docs/index.md embeds); without it, it only checks them.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product
from tests.helpers.products import product_form
from tests.helpers.servers import (
    ROOT,
    DashboardPage,
    HttpSession,
    off_main_thread,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

DESKTOP = {"width": 1000, "height": 720}
SCREENSHOTS = os.environ.get("SHOP_MANAGER_SCREENSHOTS", "")


def save(page: Any, name: str) -> None:
    if SCREENSHOTS:
        folder = ROOT / SCREENSHOTS  # an absolute path stays absolute
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"))


def lines_of_text(cell: Any) -> int:
    return int(
        cell.evaluate(
            """cell => {
              const range = document.createRange();
              range.selectNodeContents(cell);
              const tops = [...range.getClientRects()].map(r => Math.round(r.top));
              return new Set(tops).size;
            }"""
        )
    )


def load_demo_products() -> Product:
    def load() -> Product:
        call_command("load_demo_data", products=14, seed=7, verbosity=0)
        return Product.objects.create(
            name="Assam breakfast tea",
            sku="ASSAM-250",
            description="Malty, strong, for milk.",
            price=Decimal("6.90"),
            cost_price=Decimal("2.40"),
            quantity=4,
            supplier_number="SUP-1042",
        )

    return off_main_thread(load)


def test_the_overview_pages_on_a_desktop(browser, start_servers):
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = load_demo_products()
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        staff = DashboardPage(context.new_page())
        page = staff.page

        page.goto(f"{server.url}/products/")
        expect(page.get_by_role("link", name="Assam breakfast tea")).to_be_visible()
        expect(page.locator("tbody tr")).to_have_count(15)
        # A price is never broken across lines ("11.5" over "8").
        for cell in page.locator("td[data-label='Price']").all():
            assert lines_of_text(cell) == 1, cell.text_content()
        save(page, "product-list")

        page.goto(server.url + tea.get_absolute_url())
        expect(page.get_by_role("heading", name="Assam breakfast tea")).to_be_visible()

        staff.log_in(server, "staff", "staff-pass")
        colleague = HttpSession(server.url)
        colleague.log_in("staff", "staff-pass")
        for quantity in (12, 9):
            current = off_main_thread(lambda: Product.objects.get(pk=tea.pk))
            status, _, _ = colleague.request(
                tea.get_absolute_url(),
                product_form(current, quantity=quantity, price="7.20"),
            )
            assert status == 302
        latest = staff.row(off_main_thread(latest_event_id))
        expect(latest).to_contain_text("quantity: 12 → 9")
        expect(staff.status).to_have_text("Live")
        assert staff.errors == []
        save(page, "live-dashboard")

        page.goto(server.url + tea.get_absolute_url())
        expect(page.get_by_text("quantity", exact=False).first).to_be_visible()
        save(page, "product-page")
    finally:
        context.close()
