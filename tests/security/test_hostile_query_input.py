"""Hostile strings in every URL input the pages read, on SQLite and PostgreSQL.

The attack: anyone (no login needed for the list) puts a NUL byte, a broken
UTF-8 sequence, a 10,000-character string or SQL-ish text into ``?q=``, the
filters, ``?sort=``, ``?page=``, a product slug or the login form. Before the
fix ``?q=%00`` reached PostgreSQL, which refuses NUL in text, and the page
answered 500. The safe outcome: a page (200), a 404 or a 400, never a 500, and
nothing in the database changes.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

import pytest

from shop_manager.models import Product, ProductEvent

pytestmark = pytest.mark.django_db

# Query-string values, already percent-encoded as they arrive on the wire.
HOSTILE = {
    "nul": "%00",
    "nul_inside": "Te%00a",
    "lone_surrogate": "%ED%A0%80",
    "invalid_utf8": "%FF%FE",
    "long": "a" * 10_000,
    "long_unicode": quote("茶" * 10_000),
    "long_emoji": quote("😀" * 13_000),
    "sql": quote("' OR 1=1 --"),
    "percent": "%25",
    "underscore": "_",
    "backslash": quote("\\"),
    "backslashes_and_wildcards": quote("\\%\\_%_"),
    "unicode": quote("Ünïcödé 茶 café"),
    "rtl_and_zero_width": quote("\u202e\u200b"),
    "huge_number": "9" * 5_000,
    "negative": "-1",
}
PARAMETERS = ["q", "stock", "expiry", "sort", "page"]
OK = {200, 400, 404}


@pytest.fixture
def shelf(make_product):
    """Two products, so a wildcard that matched everything would show."""
    make_product(name="Green tea", sku="GT-1", supplier_number="S-100")
    make_product(name="Coffee", sku="CO-1", supplier_number="S-200")
    return snapshot()


def snapshot():
    return (
        list(Product.objects.values_list("pk", "name", "version").order_by("pk")),
        ProductEvent.objects.count(),
    )


@pytest.mark.parametrize("parameter", PARAMETERS)
@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_list_parameter_is_not_a_server_error(client, shelf, parameter, value):
    """Attack: a hostile value in any list parameter. Safe: 200/400/404."""
    response = client.get(f"/products/?{parameter}={value}")
    assert response.status_code in OK
    assert snapshot() == shelf


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_in_every_parameter_at_once(client, shelf, value):
    """Attack: the same hostile value in all parameters, repeated. Safe: no 500."""
    query = "&".join(f"{name}={value}" for name in PARAMETERS * 2)
    response = client.get(f"/products/?{query}")
    assert response.status_code in OK
    assert snapshot() == shelf


@pytest.mark.parametrize(
    "value",
    ["%00", "Te%00a", "%ED%A0%80", "%FF", quote("' OR 1=1 --"), "%25", "_"],
    ids=["nul", "nul_inside", "lone_surrogate", "invalid_utf8", "sql", "%", "_"],
)
def test_hostile_search_matches_nothing(client, shelf, value):
    """Attack: NUL, broken UTF-8, SQL or LIKE wildcards in ``q``.

    Safe: searched literally, so nothing matches (no product holds them); a
    wildcard or ``OR 1=1`` that matched everything would list both products.
    """
    response = client.get(f"/products/?q={value}")
    assert response.status_code == 200
    assert list(response.context["products"]) == []


def test_a_search_longer_than_any_field_matches_nothing(client, shelf):
    """Attack: a 10,000-character search term (SQLite refuses LIKE patterns past
    50,000 bytes). Safe: an empty result, not a 500."""
    response = client.get("/products/?q=" + quote("😀" * 13_000))
    assert response.status_code == 200
    assert list(response.context["products"]) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [("tea", ["Green tea"]), ("GT-1", ["Green tea"]), ("S-200", ["Coffee"])],
)
def test_a_normal_search_still_finds_products(staff_client, shelf, query, expected):
    """The fix refuses only terms no product can hold: real searches work
    (staff, who may search supplier numbers)."""
    response = staff_client.get(f"/products/?q={quote(query)}")
    assert response.status_code == 200
    assert [p.name for p in response.context["products"]] == expected


def test_a_product_with_wildcards_in_its_name_is_found_literally(client, make_product):
    """``%`` and ``_`` in a search match those characters, not anything."""
    make_product(name="100% tea_leaf")
    make_product(name="1000 teas")
    response = client.get("/products/?q=" + quote("0% tea_"))
    assert [p.name for p in response.context["products"]] == ["100% tea_leaf"]


SLUGS = {
    "nul": "%00",
    "nul_inside": "tea%00",
    "lone_surrogate": "%ED%A0%80",
    "invalid_utf8": "%FF%FE",
    "long": "a" * 10_000,
    "long_unicode": quote("茶" * 10_000),
    "sql": quote("' OR 1=1 --"),
    "percent": "%25",
    "backslash": quote("\\"),
    "underscore": "_",
}


@pytest.mark.parametrize("suffix", ["", "delete"])
@pytest.mark.parametrize("slug", SLUGS.values(), ids=SLUGS.keys())
def test_hostile_slug_is_not_found(staff_client, shelf, slug, suffix):
    """Attack: a slug no product can have, on the detail and delete pages,
    with GET and POST. Safe: 404, and nothing is changed or deleted."""
    url = f"/products/{slug}/{suffix}"
    assert staff_client.get(url).status_code == 404
    assert staff_client.post(url, {"name": "x", "price": "1"}).status_code == 404
    assert snapshot() == shelf


def test_a_slug_no_product_can_have_never_reaches_the_database(
    staff_client, shelf, django_assert_max_num_queries
):
    """A slug longer than the slug column, or holding a NUL, is a 404 before
    any product query is made."""
    for slug in ["a" * 221, "tea%00"]:
        with django_assert_max_num_queries(2) as captured:
            response = staff_client.get(f"/products/{slug}/")
        assert response.status_code == 404
        assert not [q for q in captured if "shop_manager_product" in q["sql"]]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_dashboard_query_is_not_a_server_error(staff_client, shelf, value):
    """Attack: hostile query parameters on the dashboard page (it reads
    none). Safe: the page, never a 500."""
    response = staff_client.get(f"/dashboard/products/?q={value}&after={value}")
    assert response.status_code in OK


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_login_input_is_a_form_error(client, staff_user, value):
    """Attack: hostile username, password and ``next`` on the login form.
    Safe: the form is shown again (200) and nobody is logged in."""
    assert client.get(f"/accounts/login/?next={value}").status_code in OK
    response = client.post(
        f"/accounts/login/?next={value}",
        f"username={value}&password={value}&next={value}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in {200, 400}
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_next_for_a_logged_in_user_stays_on_the_site(staff_client, value):
    """Attack: a logged-in user sent to the login page with a hostile ``next``.
    Safe: a redirect to this site (or the page), never a 500."""
    response = staff_client.get(f"/accounts/login/?next={value}")
    assert response.status_code in {*OK, 302}
    if response.status_code == 302:
        location = urlsplit(response["Location"])
        assert (location.scheme, location.netloc) == ("", "")


FORM = {"name": "Tea", "price": "3.50", "cost_price": "1.00", "quantity": "4"}


@pytest.mark.parametrize("field", ["name", "sku", "description", "supplier_number"])
def test_nul_in_a_created_product_is_a_form_error(staff_client, field):
    """Attack: a NUL byte in a text field of the create form (PostgreSQL would
    refuse it). Safe: the form error "Null characters are not allowed."."""
    response = staff_client.post("/products/create/", {**FORM, field: "Te\x00a"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.context["form"].errors[field]
    assert not Product.objects.exists()


@pytest.mark.parametrize("field", ["name", "sku", "description", "supplier_number"])
def test_nul_in_an_updated_product_is_a_form_error(staff_client, shelf, field):
    """The same on the edit form; the product is unchanged."""
    tea = Product.objects.get(name="Green tea")
    response = staff_client.post(
        tea.get_absolute_url(), {**FORM, field: "Te\x00a", "version": tea.version}
    )
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.context["form"].errors[field]
    assert snapshot() == shelf


@pytest.mark.parametrize(
    "field", ["price", "cost_price", "quantity", "expiry_date", "low_stock_threshold"]
)
@pytest.mark.parametrize("value", ["%00", "1%00", "9" * 5_000, "%ED%A0%80", "%FF"])
def test_junk_in_a_number_or_date_field_is_a_form_error(staff_client, field, value):
    """Attack: NUL, a 5,000-digit number or broken UTF-8 in a number or date
    field. Safe: a form error on that field and nothing saved."""
    response = staff_client.post(
        "/products/create/",
        f"{urlencode({**FORM, field: ''})}&{field}={value}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Product.objects.exists()
