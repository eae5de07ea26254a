"""Every page as a person sees it in Chromium: it fits a phone and passes an
automated accessibility check (axe-core)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from shop_manager.models import Product
from tests.helpers.servers import DashboardPage, off_main_thread

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PHONE = {"width": 390, "height": 844}
# A name long enough to overflow any fixed-width layout.
LONG_NAME = "Organic first-flush Darjeeling single-estate loose-leaf tea " * 2


@pytest.fixture
def products() -> list[Product]:
    def create() -> list[Product]:
        return [
            Product.objects.create(
                name=LONG_NAME.strip(),
                sku="DARJ-FF-2026-LOOSE-500G",
                price=Decimal("1234567.89"),
                quantity=2,
                supplier_number="SUP-000000123456",
            ),
            Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=40),
        ]

    return off_main_thread(create)


@pytest.fixture
def staff_page(browser: Any, start_servers: Any) -> Iterator[tuple[Any, str]]:
    (server,) = start_servers("a")
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(10_000)
    page = DashboardPage(context.new_page())
    page.log_in(server, "staff", "staff-pass")
    try:
        yield page.page, server.url
    finally:
        context.close()


def staff_paths(products: list[Product]) -> list[str]:
    long = products[0]
    return [
        "/products/",
        "/products/?q=tea&sort=-price",
        long.get_absolute_url(),
        f"{long.get_absolute_url()}edit/",
        "/products/create/",
        f"{long.get_absolute_url()}delete",
        "/dashboard/products/",
    ]


def test_every_page_fits_a_phone_without_scrolling_sideways(staff_page, products):
    page, base = staff_page
    for path in staff_paths(products):
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a 390px phone"


def test_the_product_list_shows_each_value_with_its_label_on_a_phone(
    staff_page, products
):
    from playwright.sync_api import expect

    page, base = staff_page
    page.goto(base + "/products/")
    row = page.locator("tbody tr").filter(has_text="DARJ-FF-2026-LOOSE-500G")
    # The column headings are hidden on a phone; each cell says what it is.
    expect(row.locator("td[data-label='Price']")).to_be_visible()
    label = row.locator("td[data-label='Price']").evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    )
    assert label == '"Price"'


def test_pages_pass_axe_core(staff_page, products):
    from axe_playwright_python.sync_playwright import Axe

    page, base = staff_page
    axe = Axe()
    found = {}
    for path in staff_paths(products):
        page.goto(base + path)
        results = axe.run(page)
        if results.violations_count:
            found[path] = results.generate_snapshot()
    assert not found, found


def test_form_fields_are_outlined_with_enough_contrast(staff_page, products):
    """WCAG 1.4.11: a field's boundary needs 3:1 against its background."""
    page, base = staff_page
    page.goto(base + "/products/create/")
    ratio = page.locator("#id_name").evaluate(
        """field => {
          const rgb = value => value.match(/\\d+/g).slice(0, 3).map(Number);
          const luminance = ([r, g, b]) => {
            const lin = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
          };
          // What the field stands on: the nearest ancestor with a background.
          let behind = "rgb(255, 255, 255)";
          for (let node = field.parentElement; node; node = node.parentElement) {
            const color = getComputedStyle(node).backgroundColor;
            if (color !== "rgba(0, 0, 0, 0)" && color !== "transparent") { behind = color; break; }
          }
          const border = luminance(rgb(getComputedStyle(field).borderTopColor));
          const page = luminance(rgb(behind));
          const [hi, lo] = border > page ? [border, page] : [page, border];
          return (hi + 0.05) / (lo + 0.05);
        }"""
    )
    assert ratio >= 3, f"field border contrast is {ratio:.2f}:1"


def test_the_conflict_page_passes_axe_and_saves_the_chosen_value(staff_page, products):
    """In a browser: someone else changes the quantity while I edit the price;
    the conflict page (checked by axe) offers their quantity, preselected, and
    saving keeps both changes."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    page, base = staff_page
    tea = products[1]
    page.goto(f"{base}{tea.get_absolute_url()}edit/")
    page.locator("#id_price").fill("4.25")

    def someone_else_saves() -> None:
        other = Product.objects.get(pk=tea.pk)
        other.quantity = 7
        other.save()

    off_main_thread(someone_else_saves)
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("heading", level=2).first).to_have_text(
        "Someone else changed this product while you were editing it"
    )
    quantity = page.get_by_role("group", name="Quantity")
    expect(quantity.get_by_role("radio", name="Take theirs")).to_be_checked()
    results = Axe().run(page)
    assert not results.violations_count, results.generate_snapshot()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("button", name="Save with these choices").click()
    expect(page).to_have_url(f"{base}{tea.get_absolute_url()}")
    saved = off_main_thread(lambda: Product.objects.get(pk=tea.pk))
    assert (saved.quantity, saved.price) == (7, Decimal("4.25"))
