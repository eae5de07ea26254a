"""Property tests: whatever a client sends to the product form and the list
filters, the answer is a page or a clear refusal (never a server error), and
what is stored stays within the model's bounds.

NUL bytes and other hostile query strings have their own cases in
``test_hostile_query_input.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop_manager.models import MAX_QUANTITY, Product
from tests.helpers.products import VALID_PRODUCT

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    # The client and database fixtures are shared by every example on purpose:
    # rows piling up between examples is part of what is tried.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# price and cost_price: max_digits=10, decimal_places=2.
MAX_PRICE = Decimal("99999999.99")
ANSWERS = {200, 302, 400, 403, 404}

# Any text a form field might receive, control characters and all.
any_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from(
        ["1e309", "-0", "0.001", "99999999.999", "100000000", "1" * 40, "٣", "1_000"]
    ),
)
dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(
        ["0000-01-01", "10000-01-01", "2024-02-30", "2024-13-01", "-1-01-01"]
    ),
    any_text,
)
field_value = {
    "name": any_text,
    "sku": any_text,
    "description": any_text,
    "supplier_number": any_text,
    "price": st.one_of(numbers, any_text),
    "cost_price": st.one_of(numbers, any_text),
    "quantity": st.one_of(numbers, any_text),
    "low_stock_threshold": st.one_of(numbers, any_text),
    "expiry_date": dates,
}
product_posts = st.fixed_dictionaries({}, optional=field_value).map(
    lambda fields: {**VALID_PRODUCT, **fields}
)


def assert_within_bounds(products: Any) -> None:
    for item in products:
        assert Decimal(0) <= item.price <= MAX_PRICE
        assert Decimal(0) <= item.cost_price <= MAX_PRICE
        assert 0 <= item.quantity <= MAX_QUANTITY
        assert item.low_stock_threshold is None or (
            0 <= item.low_stock_threshold <= MAX_QUANTITY
        )
        assert item.slug


@EXAMPLES
@given(data=product_posts)
def test_any_create_form_input_is_saved_in_bounds_or_refused(staff_client, data):
    """Attack: a staff account (or a script holding its session) posts
    arbitrary field values, huge or negative numbers, decimals with many
    digits, impossible dates, control characters, unicode. Safe: a form error
    or a redirect, never a 500, and every stored product is within bounds
    (prices 0 to 99,999,999.99; quantities 0 to 2**31-1)."""
    before = Product.objects.count()

    response = staff_client.post("/products/create/", data)

    assert response.status_code in ANSWERS
    if response.status_code == 200:
        assert Product.objects.count() == before  # Refused with a form error.
    assert_within_bounds(Product.objects.all())


@EXAMPLES
@given(item=product_posts)
def test_any_update_form_input_is_saved_in_bounds_or_refused(
    staff_client, make_product, item
):
    """The same for updates through the product page's form."""
    product = make_product(name="Target")

    response = staff_client.post(product.get_absolute_url(), {**item, "version": 1})

    assert response.status_code in ANSWERS | {409}
    assert_within_bounds(Product.objects.all())


# Query strings; NUL bytes are test_hostile_query_input.py's.
query_text = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"
    ),
    max_size=200,
)
list_params = st.fixed_dictionaries(
    {},
    optional={
        "q": query_text,
        "sort": st.one_of(
            st.sampled_from(["name", "-price", "expiry_date"]), query_text
        ),
        "stock": st.one_of(st.just("low"), query_text),
        "expiry": st.one_of(st.sampled_from(["expired", "expiring"]), query_text),
        "page": st.one_of(
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.just("last"),
            query_text,
        ),
    },
)


@EXAMPLES
@given(params=list_params)
def test_any_list_filter_input_answers_without_a_server_error(
    client, make_product, params
):
    """Attack: arbitrary search, sort, filter and page parameters (huge or
    negative page numbers, unknown sorts, control characters, unicode).
    Safe: the list answers with a page (or a clear 4xx), never a 500."""
    make_product(name="Tea")

    response = client.get("/products/", params)

    assert response.status_code in ANSWERS
