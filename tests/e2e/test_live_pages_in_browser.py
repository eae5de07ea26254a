"""The live product list and edit form in a real browser (Debian's chromium,
via Playwright) against a real daphne process on PostgreSQL and Redis: a
change made by one member of staff shows up on another's open pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shop_manager.models import Product
from tests.helpers.products import product_form
from tests.helpers.servers import HttpSession, Server, off_main_thread

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def make(name: str, **fields: Any) -> Product:
    fields.setdefault("price", Decimal("3.50"))
    fields.setdefault("quantity", 4)
    return off_main_thread(lambda: Product.objects.create(name=name, **fields))


def fresh(product: Product) -> Product:
    return off_main_thread(lambda: Product.objects.get(pk=product.pk))


def open_as(browser: Any, server: Server, username: str, password: str, path: str):
    """A tab logged in as ``username`` on ``path``, with its page errors and
    websocket frames recorded."""
    from playwright.sync_api import expect

    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []
    page.frames_received = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "websocket",
        lambda socket: socket.on(
            "framereceived", lambda payload: page.frames_received.append(payload)
        ),
    )
    page.goto(f"{server.url}/accounts/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server.url}{path}")
    return page


@pytest.fixture
def colleague(transactional_db: None, django_user_model: Any) -> Any:
    # Off the main thread: the browser's event loop may already run on it.
    return off_main_thread(
        lambda: django_user_model.objects.create_user(
            username="bea", password="bea-pass", is_staff=True
        )
    )


def test_a_staff_list_follows_changes_made_elsewhere(start_servers, browser, colleague):
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = make("Tea", quantity=4)
    make("Coffee", quantity=8)
    biscuits = make("Biscuits", quantity=2)
    page = open_as(browser, server, "staff", "staff-pass", "/products/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    page.evaluate("window.scrollTo(0, 0); window.marker = 'same page'")

    bea = HttpSession(server.url)
    bea.log_in("bea", "bea-pass")
    status, _, _ = bea.request(tea.get_absolute_url(), product_form(tea, quantity=9))
    assert status == 302

    # The row shows the new value in place, and says who changed it.
    row = page.locator(f'tr[data-product-id="{tea.pk}"]')
    expect(row.locator(".sm-col-quantity")).to_contain_text("9")
    expect(row).to_contain_text("Changed by bea")
    # A new name sorts the row elsewhere: it stays put and says so.
    bea.request(tea.get_absolute_url(), product_form(fresh(tea), name="Apple tea"))
    expect(row).to_contain_text("Apple tea")
    expect(row).to_contain_text("Its place in this order changed")
    expect(page.locator("tbody tr").first).to_have_attribute(
        "data-product-id", str(biscuits.pk)
    )

    # A new product is named in a notice, not slipped into the table.
    status, _, _ = bea.request(
        "/products/create/",
        {"name": "Apricots", "price": "2.00", "quantity": "5", "cost_price": "1.00"},
    )
    assert status == 302
    notice = page.locator("[data-live-notice]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("1 new product: Apricots")
    expect(page.locator("tbody tr")).to_have_count(3)
    notice.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr")).to_have_count(4)
    # Now in the list's own order, the new row marked.
    expect(page.locator("tbody tr").nth(0)).to_contain_text("Apple tea")
    expect(page.locator("tbody tr").nth(1)).to_contain_text("Apricots")
    expect(page.locator("tbody tr").nth(1)).to_have_class("sm-row-new")
    expect(notice).to_be_hidden()

    # A deleted product's row is marked, not removed from under the reader.
    coffee = page.locator("tbody tr", has_text="Coffee")
    coffee_pk = coffee.get_attribute("data-product-id")
    bea.request("/products/coffee/delete", {})
    deleted = page.locator(f'tr[data-product-id="{coffee_pk}"]')
    expect(deleted).to_have_attribute("data-deleted", "true")
    expect(deleted).to_contain_text("Deleted by bea")
    # All of it without a reload.
    assert page.evaluate("window.marker") == "same page"
    assert page.errors == []


def test_a_list_asks_for_its_page_only_for_changes_that_concern_it(
    start_servers, browser, colleague
):
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = make("Tea", quantity=4)
    coffee = make("Coffee", quantity=8)
    page = open_as(browser, server, "staff", "staff-pass", "/products/?q=Tea")
    asked: list[str] = []
    page.on(
        "request",
        lambda request: "live_ids=" in request.url and asked.append(request.url),
    )
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")

    bea = HttpSession(server.url)
    bea.log_in("bea", "bea-pass")
    # Coffee is not on this page: its change is not worth a request...
    bea.request(coffee.get_absolute_url(), product_form(coffee, quantity=1))
    # ...Tea's is; its frame comes after Coffee's, so by the time Tea's row
    # shows the change, a request for Coffee would have been made.
    bea.request(tea.get_absolute_url(), product_form(tea, quantity=9))
    row = page.locator(f'tr[data-product-id="{tea.pk}"]')
    expect(row.locator(".sm-col-quantity")).to_contain_text("9")
    assert len(asked) == 1, asked
    assert f"live_ids={tea.pk}" in asked[0]
    assert page.errors == []


def test_a_reader_who_may_not_watch_opens_no_socket(
    start_servers, browser, django_user_model
):
    from playwright.sync_api import expect

    off_main_thread(
        lambda: django_user_model.objects.create_user(
            username="shopper", password="shopper-pass"
        )
    )
    (server,) = start_servers("a")
    make("Tea", cost_price=Decimal("1.23"))
    page = open_as(browser, server, "shopper", "shopper-pass", "/products/")
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.reload()
    expect(page.locator("tbody tr")).to_have_count(1)
    assert "1.23" not in page.content()
    assert sockets == []
    assert page.frames_received == []


def test_an_open_form_takes_others_saves_and_keeps_the_typing(
    start_servers, browser, colleague
):
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = make("Tea", quantity=4, description="Loose leaf")
    page = open_as(browser, server, "staff", "staff-pass", "/products/tea/edit/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    description = page.get_by_label("Description")
    description.fill("Loose leaf, first flush")
    price = page.locator('input[name="price"]')

    bea = HttpSession(server.url)
    bea.log_in("bea", "bea-pass")
    status, _, _ = bea.request(
        "/products/tea/edit/",
        product_form(tea, quantity=9, description="Bea's words", name="Green tea"),
    )
    assert status == 302

    # The field left alone takes the saved value at once, and says whose.
    quantity = page.get_by_label("Quantity")
    expect(quantity).to_have_value("9")
    expect(
        page.locator('.sm-field:has([name="quantity"]) [data-live-field-note]')
    ).to_have_text("bea saved a new value: 9")
    # The typing stays; the field says what was saved meanwhile.
    expect(description).to_have_value("Loose leaf, first flush")
    expect(
        page.locator('.sm-field:has([name="description"]) [data-live-field-note]')
    ).to_contain_text("bea saved Bea's words; your typing is kept")
    expect(price).to_have_value("3.50")

    # One submit: what only Bea changed is kept, the field both changed asks.
    price.fill("4.00")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Someone else changed this product")).to_be_visible()
    assert page.locator('fieldset[data-field="quantity"]').count() == 0
    page.get_by_label("Keep mine:").check()
    page.get_by_role("button", name="Save with these choices").click()
    # Renamed, the product keeps its address.
    expect(page).to_have_url(f"{server.url}/products/tea/")
    saved = fresh(tea)
    assert (saved.name, saved.quantity, saved.price, saved.description) == (
        "Green tea",
        9,
        Decimal("4.00"),
        "Loose leaf, first flush",
    )
    assert page.errors == []


def test_editors_on_two_servers_name_each_other_and_leavers_drop_off(
    start_servers, browser, colleague
):
    from playwright.sync_api import expect

    first, second = start_servers("a", "b")
    make("Tea")
    mine = open_as(browser, first, "staff", "staff-pass", "/products/tea/edit/")
    editors = mine.locator("[data-live-editors]")
    expect(mine.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    expect(editors).to_be_hidden()

    theirs = open_as(browser, second, "bea", "bea-pass", "/products/tea/edit/")
    expect(editors).to_have_text("bea is editing this product too.")
    expect(theirs.locator("[data-live-editors]")).to_have_text(
        "staff is editing this product too."
    )

    theirs.context.close()
    expect(editors).to_be_hidden()
    assert mine.errors == []


def test_a_list_on_one_server_follows_changes_posted_to_another(
    start_servers, browser, colleague
):
    """Two server processes on one Redis, a user on each: the list open on
    one takes a change and a new product posted to the other."""
    from playwright.sync_api import expect

    first, second = start_servers("a", "b")
    tea = make("Tea", quantity=4)
    page = open_as(browser, second, "staff", "staff-pass", "/products/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")

    bea = HttpSession(first.url)
    bea.log_in("bea", "bea-pass")
    status, _, _ = bea.request(tea.get_absolute_url(), product_form(tea, quantity=9))
    assert status == 302
    row = page.locator(f'tr[data-product-id="{tea.pk}"]')
    expect(row.locator(".sm-col-quantity")).to_contain_text("9")
    expect(row).to_contain_text("Changed by bea")

    status, _, _ = bea.request(
        "/products/create/",
        {"name": "Apricots", "price": "2.00", "quantity": "5", "cost_price": "1.00"},
    )
    assert status == 302
    expect(page.locator("[data-live-notice]")).to_contain_text(
        "1 new product: Apricots"
    )
    assert page.errors == []
