"""Product list, detail, create, update (with stale-edit refusal) and delete."""

from __future__ import annotations

import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from shop_manager.models import Product, ProductEvent
from tests.helpers.page_text import plain
from tests.helpers.products import product_form

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [product.name for product in response.context["products"]]


def test_search_by_name_sku_and_supplier_number(staff_client, make_product):
    make_product(name="Green tea", sku="GT-1", supplier_number="S-100")
    make_product(name="Coffee", sku="CF-9", supplier_number="S-200")
    assert names(staff_client.get("/products/?q=green")) == ["Green tea"]
    assert names(staff_client.get("/products/?q=cf-9")) == ["Coffee"]
    # Supplier numbers are cost fields: searched for staff only.
    assert names(staff_client.get("/products/?q=S-200")) == ["Coffee"]
    assert names(staff_client.get("/products/?q=  ")) == ["Coffee", "Green tea"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["A", "B", "C"]),
        ("-name", ["C", "B", "A"]),
        ("price", ["B", "C", "A"]),
        ("-price", ["A", "C", "B"]),
        ("quantity", ["C", "A", "B"]),
        ("-quantity", ["B", "A", "C"]),
        ("expiry_date", ["A", "B", "C"]),
        ("-expiry_date", ["C", "B", "A"]),
        ("modified", ["B", "A", "C"]),
        ("-modified", ["C", "A", "B"]),
        ("bogus", ["A", "B", "C"]),
    ],
)
def test_sorts(client, make_product, sort, expected):
    today = timezone.localdate()
    make_product(
        name="B",
        price=Decimal(1),
        quantity=9,
        expiry_date=today + datetime.timedelta(2),
    )
    make_product(
        name="A",
        price=Decimal(3),
        quantity=5,
        expiry_date=today + datetime.timedelta(1),
    )
    make_product(
        name="C",
        price=Decimal(2),
        quantity=1,
        expiry_date=today + datetime.timedelta(3),
    )
    assert names(client.get(f"/products/?sort={sort}")) == expected


def test_pagination_keeps_filters_and_tolerates_junk(client, make_product, settings):
    settings.SHOP_MANAGER = {"PAGE_SIZE": 2}
    for n in range(5):
        make_product(name=f"Tea {n}")
    first = client.get("/products/?q=tea&sort=-name")
    assert names(first) == ["Tea 4", "Tea 3"]
    assert "?q=tea&amp;sort=-name&amp;page=2" in first.text
    assert names(client.get("/products/?q=tea&sort=-name&page=3")) == ["Tea 0"]
    assert names(client.get("/products/?page=abc")) == ["Tea 0", "Tea 1"]
    assert names(client.get("/products/?page=999")) == ["Tea 4"]


def test_low_stock_filter_and_badge(client, make_product, settings):
    settings.SHOP_MANAGER = {"LOW_STOCK_THRESHOLD": 3}
    make_product(name="Plenty", quantity=50)
    make_product(name="Default low", quantity=3)
    make_product(name="Own threshold", quantity=8, low_stock_threshold=10)
    response = client.get("/products/?stock=low")
    assert names(response) == ["Default low", "Own threshold"]
    assert response.text.count("sm-badge-warn") == 2


def test_expiry_filters_and_badges(client, make_product, settings):
    settings.SHOP_MANAGER = {"EXPIRING_SOON_DAYS": 7}
    today = timezone.localdate()
    make_product(name="Old", expiry_date=today - datetime.timedelta(1))
    make_product(name="Soon", expiry_date=today + datetime.timedelta(7))
    make_product(name="Later", expiry_date=today + datetime.timedelta(8))
    make_product(name="Never")
    expired = client.get("/products/?expiry=expired")
    assert names(expired) == ["Old"]
    assert "Expired" in expired.text
    assert names(client.get("/products/?expiry=expiring")) == ["Soon"]
    assert "Expiring soon" in client.get("/products/").text


@pytest.mark.parametrize("logged_in", [False, True])
def test_list_query_count_does_not_grow(
    client, staff_user, make_product, django_assert_num_queries, logged_in
):
    if logged_in:
        client.force_login(staff_user)
    make_product(name="Only")
    client.get("/products/")  # Warm caches (content types, sessions).
    # Staff watch live: one more, the newest logged id the page follows from.
    with django_assert_num_queries(5 if logged_in else 2) as one:
        assert client.get("/products/").status_code == 200
    Product.objects.bulk_create(
        [
            Product(name=f"P{n:03}", slug=f"p{n:03}", price=Decimal(1))
            for n in range(199)
        ]
    )
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get("/products/?stock=low&sort=-price").status_code == 200


def test_detail_and_unknown_slug(client, staff_client, make_product):
    tea = make_product(description="Loose leaf")
    response = client.get(tea.get_absolute_url())
    assert "Loose leaf" in response.text
    assert client.get("/products/no-such-thing/").status_code == 404
    assert staff_client.get("/products/no-such-thing/delete").status_code == 404
    assert staff_client.post("/products/no-such-thing/", {}).status_code == 404


def test_create_redirects_with_message(staff_client):
    response = staff_client.post(
        "/products/create/",
        {
            "name": "Tea",
            "price": "3.50",
            "cost_price": "1",
            "quantity": "4",
            "expiry_date": "",
        },
        follow=True,
    )
    product = Product.objects.get()
    assert response.redirect_chain == [(product.get_absolute_url(), 302)]
    assert "Product “Tea” was created." in response.text
    assert product.expiry_date is None


def test_update_keeps_slug_when_name_changes(staff_client, make_product):
    tea = make_product()
    response = staff_client.post(
        tea.get_absolute_url(), product_form(tea, name="Black tea"), follow=True
    )
    tea.refresh_from_db()
    assert (tea.name, tea.slug) == ("Black tea", "tea")
    assert "Product “Black tea” was updated." in response.text


def test_stale_edit_is_refused_and_the_other_change_survives(
    client, staff_client, staff_user, make_product
):
    tea = make_product(quantity=4)
    loaded = Product.objects.get(pk=tea.pk)  # What the second editor's form holds.
    assert (
        staff_client.post(
            tea.get_absolute_url(), product_form(tea, quantity="9")
        ).status_code
        == 302
    )

    stale = staff_client.post(
        tea.get_absolute_url(), product_form(loaded, quantity="1", price="5.00")
    )
    assert stale.status_code == 409
    assert "Someone else changed this product" in stale.text
    assert stale.context["conflict"].quantity == 9
    # Their quantity is offered next to mine (tests/test_product_edit.py has more).
    assert [c.field for c in stale.context["stale_edit"].choices] == ["quantity"]
    tea.refresh_from_db()
    assert (tea.quantity, tea.price) == (9, Decimal("3.50"))

    # The page's form carries the current version: saving again is deliberate.
    resubmit = dict(stale.context["form"].data.items())
    assert int(resubmit["version"]) == tea.version
    assert staff_client.post(tea.get_absolute_url(), resubmit).status_code == 302
    tea.refresh_from_db()
    assert (tea.quantity, tea.price) == (1, Decimal("5.00"))


def test_delete_confirms_then_deletes(staff_client, make_product):
    tea = make_product()
    confirm = staff_client.get(f"/products/{tea.slug}/delete")
    assert "Delete “Tea”?" in confirm.text
    assert Product.objects.exists()
    response = staff_client.post(f"/products/{tea.slug}/delete", follow=True)
    assert response.redirect_chain == [("/products/", 302)]
    assert "Product “Tea” was deleted." in response.text
    assert not Product.objects.exists()


def test_admin_lists_searches_and_filters(admin_client, make_product):
    make_product(name="Green tea", quantity=1)
    make_product(name="Coffee", quantity=50)
    response = admin_client.get("/admin/shop_manager/product/?q=green&stock=low")
    assert response.status_code == 200
    assert "Green tea" in response.text
    assert "Coffee" not in response.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_get_distinct_slugs():
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait()
            Product.objects.create(name="Tea", price=Decimal(1))
        except BaseException as exc:  # Reported below, in the test thread.
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Product.objects.values_list("slug", flat=True)) == [
        "tea",
        "tea-2",
        "tea-3",
        "tea-4",
    ]


def test_required_fields_are_marked_on_the_product_form(staff_client):
    page = staff_client.get("/products/create/").content.decode()
    assert "are required." in page
    # A required field: starred for the eye, "required" for assistive technology.
    assert (
        'for="id_name">Name<span class="sm-required" aria-hidden="true">*</span>'
        in page
    )
    assert re.search(r'<input[^>]* name="name"[^>]* required[ >]', page)
    # An optional one: neither.
    assert 'for="id_description">Description</label>' in page
    assert not re.search(r"<textarea[^>]* required[ >]", page)


def log_quantity_changes(product: Product, count: int) -> None:
    """``count`` logged quantity changes, in one bulk write."""
    from shop_manager.changelog.writer import log_events

    log_events([(product, "updated", {"quantity": (n, n + 1)}) for n in range(count)])


def history_ids(response) -> list[int]:
    return [
        int(i)
        for i in re.findall(r'class="sm-feed-item" data-id="(\d+)"', response.text)
    ]


def test_older_history_is_a_link_away_page_by_page(client, make_product):
    tea = make_product(quantity=0)
    log_quantity_changes(tea, 44)  # 45 events with the creation.
    seen: list[int] = []
    page = client.get(tea.get_absolute_url())
    assert "Newest changes" not in page.text
    for expected in (20, 20, 5):
        ids = history_ids(page)
        assert len(ids) == expected
        assert ids == sorted(ids, reverse=True)
        seen += ids
        older = re.search(r'href="\?history_before=(\d+)#history"', page.text)
        if expected < 20:
            assert older is None
            break
        assert older is not None
        page = client.get(f"{tea.get_absolute_url()}?history_before={older.group(1)}")
        assert 'href="?#history">Newest changes' in page.text
    assert seen == sorted(
        ProductEvent.objects.filter(product_pk=tea.pk).values_list("id", flat=True),
        reverse=True,
    )


@pytest.mark.parametrize("junk", ["abc", "-1", "1e3", "99999999999999999999999"])
def test_a_junk_history_page_shows_the_newest(client, make_product, junk):
    tea = make_product()
    log_quantity_changes(tea, 3)
    newest = history_ids(client.get(tea.get_absolute_url()))
    page = client.get(f"{tea.get_absolute_url()}?history_before={junk}")
    assert page.status_code == 200
    assert history_ids(page) == newest


def test_detail_queries_do_not_grow_with_history(
    client, make_product, django_assert_max_num_queries
):
    tea = make_product()
    client.get(tea.get_absolute_url())  # Warm caches (content types, sessions).
    # The product and its page of history, however long the history.
    with django_assert_max_num_queries(2):
        client.get(tea.get_absolute_url())
    log_quantity_changes(tea, 300)
    oldest_shown = history_ids(client.get(tea.get_absolute_url()))[-1]
    with django_assert_max_num_queries(2):
        page = client.get(tea.get_absolute_url())
    assert len(history_ids(page)) == 20
    with django_assert_max_num_queries(2):
        client.get(f"{tea.get_absolute_url()}?history_before={oldest_shown}")


def test_dashboard_queries_do_not_grow_with_the_log(
    staff_client, make_product, django_assert_max_num_queries
):
    tea = make_product()
    staff_client.get("/dashboard/products/")  # Warm caches.
    # Session, user, the recent events (with whether older ones exist), the
    # tiles' counts (one aggregate) and the products needing attention.
    with django_assert_max_num_queries(5):
        staff_client.get("/dashboard/products/")
    log_quantity_changes(tea, 300)
    Product.objects.bulk_create(
        Product(name=f"P{n:03}", slug=f"p{n:03}", price=Decimal(1), quantity=n % 3)
        for n in range(200)
    )
    with django_assert_max_num_queries(5):
        page = staff_client.get("/dashboard/products/")
    assert len(history_ids(page)) == 50


# Empty states ---------------------------------------------------------------------


def empty_state(response) -> str | None:
    match = re.search(r'data-empty="([a-z-]+)"', response.text)
    return match.group(1) if match else None


def test_an_empty_shop_invites_staff_to_create_or_import(staff_client):
    page = staff_client.get("/products/")
    assert empty_state(page) == "no-products"
    text = plain(page.text)
    assert "No products yet" in text
    assert 'href="/products/create/"' in page.text
    assert 'href="/products/import/"' in page.text
    # Nothing to search or export yet.
    assert 'role="search"' not in page.text


def test_an_empty_shop_tells_a_shopper_without_offering_what_they_may_not_do(
    regular_client,
):
    page = regular_client.get("/products/")
    assert empty_state(page) == "no-products"
    assert "No products yet" in plain(page.text)
    assert 'href="/products/create/"' not in page.text
    assert 'href="/products/import/"' not in page.text


def test_a_search_that_finds_nothing_says_so_and_offers_the_way_back(
    staff_client, make_product
):
    make_product(name="Tea")
    page = staff_client.get("/products/?q=saffron")
    assert empty_state(page) == "no-results"
    text = plain(page.text)
    assert "No products match “saffron”" in text
    assert "No products yet" not in text
    assert "Clear search and filters" in text
    # The search box still holds what was asked.
    assert 'value="saffron"' in page.text


def test_filters_that_leave_nothing_say_so(staff_client, make_product):
    make_product(name="Tea", quantity=50)
    page = staff_client.get("/products/?stock=low")
    assert empty_state(page) == "no-results"
    assert "No products match these filters" in plain(page.text)


def test_a_search_in_an_empty_shop_says_the_shop_is_empty(staff_client):
    page = staff_client.get("/products/?q=tea")
    assert empty_state(page) == "no-products"
    assert 'value="tea"' in page.text


def test_a_page_with_products_shows_no_empty_state(client, make_product):
    make_product()
    assert empty_state(client.get("/products/")) is None


# One way to write dates, badges where they belong ------------------------------


def test_dates_and_badges_in_their_own_columns(client, make_product, settings):
    settings.SHOP_MANAGER = {"EXPIRING_SOON_DAYS": 7}
    soon = timezone.localdate() + datetime.timedelta(3)
    make_product(name="Milk", quantity=0, expiry_date=soon)
    page = client.get("/products/").text
    quantity = re.search(
        r'<td [^>]*class="sm-num sm-col-quantity">(.*?)</td>', page, re.S
    )
    expiry = re.search(r'<td [^>]*class="sm-col-expiry">(.*?)</td>', page, re.S)
    assert quantity
    assert expiry
    assert "Out of stock" in quantity.group(1)
    assert "Expiring soon" not in quantity.group(1)
    assert "Expiring soon" in expiry.group(1)
    assert f">{soon:%Y-%m-%d}</time>" in expiry.group(1)


def test_column_headings_sort_and_keep_the_search(client, make_product):
    make_product()
    page = client.get("/products/?q=tea&sort=price").text
    # Sorted by price now: its heading says so and offers the other way.
    assert re.search(
        r'<th scope="col" class="sm-num" aria-sort="ascending"><a href="\?q=tea&amp;sort=-price">',
        page,
    )
    assert 'href="?q=tea&amp;sort=name"' in page
