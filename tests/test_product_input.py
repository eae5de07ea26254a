"""Bad input gets a clear form error and changes nothing; odd names still work."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop_manager.models import Product

pytestmark = pytest.mark.django_db

VALID = {"name": "Tea", "price": "3.50", "cost_price": "1.00", "quantity": "4"}

BAD_INPUT = [
    ("price", "abc", "Enter a number."),
    ("price", "1e400", "Ensure that there are no more than"),
    ("price", "NaN", "Enter a number."),
    ("price", "-1", "greater than or equal to 0"),
    ("price", "12345678901", "Ensure that there are no more than"),
    ("quantity", "-1", "greater than or equal to 0"),
    ("quantity", str(2**31), "less than or equal to 2147483647"),
    ("quantity", "abc", "Enter a whole number."),
    ("expiry_date", "2024-02-30", "Enter a valid date."),
    ("name", "", "This field is required."),
    ("name", "x" * 300, "at most 200 characters"),
    ("name", "Te\x00a", "Null characters are not allowed."),
]


@pytest.mark.parametrize(("field", "value", "error"), BAD_INPUT)
def test_create_rejects_bad_input(staff_client, field, value, error):
    response = staff_client.post("/products/create/", {**VALID, field: value})
    assert response.status_code == 200
    assert any(error in message for message in response.context["form"].errors[field])
    assert error in response.text.replace("&#x27;", "'")
    assert not Product.objects.exists()


@pytest.mark.parametrize(("field", "value", "error"), BAD_INPUT)
def test_update_rejects_bad_input(staff_client, make_product, field, value, error):
    tea = make_product(name="Tea", price=Decimal("3.50"), quantity=4)
    before = Product.objects.values().get(pk=tea.pk)
    response = staff_client.post(
        tea.get_absolute_url(), {**VALID, field: value, "version": tea.version}
    )
    assert response.status_code == 200
    assert any(error in message for message in response.context["form"].errors[field])
    assert Product.objects.values().get(pk=tea.pk) == before


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Café crème", "cafe-creme"),
        ("!!!", "product"),
        ("茶", "茶"),
        ("Create", "create-2"),
    ],
)
def test_odd_names_get_usable_slugs(staff_client, client, name, slug):
    response = staff_client.post("/products/create/", {**VALID, "name": name})
    product = Product.objects.get()
    assert (product.name, product.slug) == (name, slug)
    assert response.url == product.get_absolute_url()
    assert client.get(product.get_absolute_url()).status_code == 200


def test_duplicate_names_get_distinct_slugs(staff_client):
    for _ in range(3):
        assert staff_client.post("/products/create/", VALID).status_code == 302
    assert sorted(Product.objects.values_list("slug", flat=True)) == [
        "tea",
        "tea-2",
        "tea-3",
    ]


def test_duplicate_sku_is_a_form_error(staff_client, make_product):
    make_product(sku="T-1")
    response = staff_client.post("/products/create/", {**VALID, "sku": "T-1"})
    assert response.status_code == 200
    assert "sku" in response.context["form"].errors
    assert Product.objects.count() == 1


def test_empty_sku_is_stored_as_null_so_many_may_omit_it(staff_client):
    for _ in range(2):
        assert (
            staff_client.post("/products/create/", {**VALID, "sku": ""}).status_code
            == 302
        )
    assert list(Product.objects.values_list("sku", flat=True)) == [None, None]
