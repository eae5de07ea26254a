"""Every page as a person sees it in Chromium, on a desktop (1280 px) and a
phone (390 px): it fits the screen, its navigation folds on the phone, and it
passes an automated accessibility check (axe-core) in light and dark."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from shop_manager.models import Product
from tests.helpers.servers import off_main_thread

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
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
def regular(django_user_model: Any) -> Any:
    return off_main_thread(
        lambda: django_user_model.objects.create_user(
            username="shopper", password="shopper-pass"
        )
    )


@pytest.fixture
def open_page(
    browser: Any, start_servers: Any
) -> Iterator[Callable[..., tuple[Any, str]]]:
    """``open_page(viewport, user=("staff", "staff-pass"), dark=False)``: a
    logged-in (or, with ``user=None``, anonymous) tab and the server's URL."""
    (server,) = start_servers("a")
    contexts: list[Any] = []

    def open_(
        viewport: dict[str, int],
        user: tuple[str, str] | None = ("staff", "staff-pass"),
        dark: bool = False,
    ) -> tuple[Any, str]:
        context = browser.new_context(
            viewport=viewport, color_scheme="dark" if dark else "light"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if user is not None:
            page.goto(f"{server.url}/accounts/login/?next=/products/")
            page.get_by_label("Username").fill(user[0])
            page.get_by_label("Password").fill(user[1])
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{server.url}/products/")
        return page, server.url

    try:
        yield open_
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def staff_page(open_page: Any) -> tuple[Any, str]:
    return open_page(PHONE)  # type: ignore[no-any-return]


def staff_paths(products: list[Product]) -> list[str]:
    long = products[0]
    return [
        "/products/",
        "/products/?q=tea&sort=-price",
        "/products/?q=no-such-product",
        long.get_absolute_url(),
        f"{long.get_absolute_url()}edit/",
        "/products/create/",
        f"{long.get_absolute_url()}delete",
        "/products/import/",
        "/dashboard/products/",
    ]


def violations(page: Any) -> dict[str, Any]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    if not results.violations_count:
        return {}
    return {"violations": results.generate_snapshot()}


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
    expect(row.locator("td[data-label='Price']")).to_contain_text("$1,234,567.89")


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_every_page_passes_axe_core(open_page, products, regular, viewport):
    """Staff's pages, the login page and the refusal a shopper gets, at both
    widths: no accessibility violation of any impact."""
    found = {}
    page, base = open_page(viewport, user=None)
    page.goto(base + "/accounts/login/")
    found["/accounts/login/"] = violations(page)
    page, base = open_page(viewport)
    for path in staff_paths(products):
        page.goto(base + path)
        if path.startswith("/dashboard/"):
            from playwright.sync_api import expect

            expect(page.locator("[data-connection]")).to_have_text("Live")
        found[path] = violations(page)
    page, base = open_page(viewport, user=("shopper", "shopper-pass"))
    assert page.goto(base + "/products/create/").status == 403
    found["403"] = violations(page)
    found = {path: result for path, result in found.items() if result}
    assert not found, found


def test_dark_pages_keep_their_contrast(open_page, products):
    """The dark palette (prefers-color-scheme) meets the same contrast rules."""
    page, base = open_page(DESKTOP, dark=True)
    found = {}
    for path in staff_paths(products):
        page.goto(base + path)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        found[path] = violations(page)
    found = {path: result for path, result in found.items() if result}
    assert not found, found


def test_the_phone_menu_folds_and_unfolds(open_page, products):
    """On a phone the links hide behind "Menu" (a button that says whether it
    is open); Escape closes it again, focus back on the button. On a desktop
    there is no button, just the links."""
    from playwright.sync_api import expect

    page, base = open_page(PHONE)
    page.goto(base + "/products/")
    menu = page.get_by_role("button", name="Menu")
    dashboard_link = page.get_by_role("link", name="Live dashboard")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(dashboard_link).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(dashboard_link).to_be_visible()
    found = violations(page)
    assert not found, found
    dashboard_link.focus()
    page.keyboard.press("Escape")
    expect(dashboard_link).to_be_hidden()
    expect(menu).to_be_focused()

    page, base = open_page(DESKTOP)
    page.goto(base + "/products/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Live dashboard")).to_be_visible()


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
    """In a browser: someone else changes the quantity while I edit the price
    and the quantity; the conflict page (checked by axe) offers their quantity
    beside mine, and saving keeps the one chosen and my price."""
    from playwright.sync_api import expect

    page, base = staff_page
    tea = products[1]
    page.goto(f"{base}{tea.get_absolute_url()}edit/")
    page.locator("#id_price").fill("4.25")
    page.locator("#id_quantity").fill("5")

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
    expect(quantity.get_by_role("radio", name="Keep mine")).to_be_checked()
    quantity.get_by_role("radio", name="Take theirs").check()
    found = violations(page)
    assert not found, found
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("button", name="Save with these choices").click()
    expect(page).to_have_url(f"{base}{tea.get_absolute_url()}")
    saved = off_main_thread(lambda: Product.objects.get(pk=tea.pk))
    assert (saved.quantity, saved.price) == (7, Decimal("4.25"))
