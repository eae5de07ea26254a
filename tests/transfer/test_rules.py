"""The import checks rows with the product form's rules, without a form per
row: whatever the form refuses, the import refuses with the same messages,
and whatever the form accepts, the import stores as the form would."""

from __future__ import annotations

import io
import sys
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.core.validators import validate_slug
from django.db import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop_manager.forms import ProductForm
from shop_manager.models import EDITABLE_FIELDS, Product
from shop_manager.transfer.cells import neutralise
from shop_manager.transfer.columns import cell_text
from shop_manager.transfer.plan import CHANGED, CREATED, REFUSED, Rights, plan_import
from shop_manager.transfer.reading import read_file
from shop_manager.transfer.rules import UNLIMITED, RowRules, _plain_text_length
from tests.helpers.transfer import csv_bytes

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Before Python 3.11 the csv module can neither write nor read a NUL (the
# import refuses such a file whole; tests/security/test_import_input.py).
CSV_HOLDS_NUL = sys.version_info >= (3, 11)
# Cells as a file may hold them: valid, borderline and wrong values.
text = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=["Cs"],
        exclude_characters="" if CSV_HOLDS_NUL else "\x00",
    ),
    max_size=80,
)
number = st.one_of(
    st.sampled_from(
        [
            "0",
            "1",
            "-1",
            "3.5",
            "3.505",
            "99999999.99",
            "100000000",
            "1e3",
            "2147483648",
        ]
    ),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.integers(min_value=-5, max_value=2**32).map(str),
    text,
)
cells = {
    "name": st.one_of(text, st.just(""), st.just("x" * 201)),
    "description": text,
    "price": number,
    "cost_price": number,
    "quantity": number,
    "low_stock_threshold": st.one_of(st.just(""), number),
    "expiry_date": st.one_of(
        st.just(""),
        st.dates().map(str),
        st.sampled_from(["2024-02-30", "31.1.2030"]),
        text,
    ),
    "supplier_number": st.one_of(text, st.just("s" * 65)),
}
rows = st.fixed_dictionaries({}, optional=cells)


def form_reasons(form: ProductForm) -> list[str]:
    """The product page's messages, as the import words a refusal."""
    return [
        f"{form.fields[name].label}: {error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    ]


def import_row(values: dict[str, str], *, with_costs: bool = True) -> Any:
    """The one row a file with ``values`` (and SKU "S-1") plans to."""
    columns = ["sku", *values]
    # Written as the export writes cells, which the import undoes.
    data = csv_bytes([columns, ["S-1", *map(neutralise, values.values())]])
    plan = plan_import(read_file(io.BytesIO(data)), Rights(see_costs=with_costs))
    (row,) = [*plan.listed, *plan.refusals] or [None]
    return row


@EXAMPLES
@given(values=rows, with_costs=st.booleans())
def test_a_new_product_row_is_judged_as_the_form_judges_it(
    values: dict[str, str], with_costs: bool
) -> None:
    if not with_costs:
        for field in ("cost_price", "supplier_number"):
            values.pop(field, None)
    defaults = {
        name: cell_text(Product._meta.get_field(name).get_default())
        for name in EDITABLE_FIELDS
    }
    form = ProductForm({**defaults, "sku": "S-1", **values}, with_costs=with_costs)
    row = import_row(values, with_costs=with_costs)
    if form.is_valid():
        assert row.outcome == CREATED, row.reasons
        product = form.instance
        for field, (_old, new) in row.changes.items():
            assert Product._meta.get_field(field).to_python(new) == getattr(
                product, field
            )
    else:
        assert row.outcome == REFUSED
        assert row.reasons == form_reasons(form)


@EXAMPLES
@given(values=rows)
def test_a_changed_product_row_is_judged_as_the_form_judges_it(
    values: dict[str, str],
) -> None:
    product, _ = Product.objects.update_or_create(
        sku="S-1",
        defaults={"name": "Tea", "price": Decimal("3.50"), "quantity": 4},
    )
    current = {name: cell_text(getattr(product, name)) for name in EDITABLE_FIELDS}
    form = ProductForm(
        {**current, **values, "version": str(product.version)}, instance=product
    )
    row = import_row(values)
    product.refresh_from_db()  # The form changed its instance.
    if form.is_valid():
        assert row is None or row.outcome == CHANGED, row.reasons
    else:
        assert row.outcome == REFUSED
        assert row.reasons == form_reasons(form)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"price": "-1"}, "Price: Ensure this value is greater than or equal to 0."),
        ({"name": ""}, "Name: This field is required."),
        ({"quantity": "2147483648"}, "Quantity: Ensure this value is less than"),
        ({"expiry_date": "2024-02-30"}, "Expiry date: Enter a valid date."),
        pytest.param(
            {"name": "a\x00b"},
            "Name: Null characters are not allowed.",
            marks=pytest.mark.skipif(not CSV_HOLDS_NUL, reason="csv: no NUL"),
        ),
        (
            {"supplier_number": "s" * 65},
            "Supplier number: Ensure this value has at most 64",
        ),
    ],
)
def test_the_page_and_the_import_give_the_same_message(
    values: dict[str, str], reason: str
) -> None:
    row = import_row({"name": "Tea", "price": "1", **values})
    assert row.outcome == REFUSED
    assert row.reasons[0].startswith(reason)


def test_a_lone_surrogate_is_refused_not_stored() -> None:
    # No UTF-8 file holds one, but a table made in code can.
    rules = RowRules(with_costs=True)
    texts = dict.fromkeys(rules.names, "") | {
        "name": "Tea\udc80",
        "price": "1",
        "cost_price": "0",
        "quantity": "0",
    }
    _, reasons = rules.clean(texts)
    assert reasons == ["Name: This text holds characters the database cannot store."]


def test_the_form_has_no_hook_the_import_would_miss() -> None:
    """The import applies the form's fields and the model's field validators.
    A clean_<field>() or clean() on the form, a clean() on the model, form
    error_messages or a constraint beyond the two the validators restate
    would be skipped by it: teach transfer/rules.py about it first."""
    assert ProductForm.clean is forms.ModelForm.clean
    assert not [name for name in dir(ProductForm) if name.startswith("clean_")]
    assert not getattr(ProductForm.Meta, "error_messages", None)
    assert Product.clean is models.Model.clean
    assert sorted(c.name for c in Product._meta.constraints) == [
        "shop_manager_product_cost_price_gte_0",
        "shop_manager_product_price_gte_0",
    ]
    unique = {f.name for f in Product._meta.fields if f.unique}
    assert unique == {"id", "slug", "sku"}  # slug: made by the import; sku: matched.


def test_only_plain_text_columns_take_a_text_without_the_rules() -> None:
    plain = {c.name: c.plain for c in RowRules(with_costs=True).columns}
    assert plain == {
        "name": 200,
        "sku": 64,
        "description": UNLIMITED,
        "supplier_number": 64,
        "price": None,
        "cost_price": None,
        "quantity": None,
        "low_stock_threshold": None,
        "expiry_date": None,
    }
    slug = forms.CharField(validators=[validate_slug])
    assert _plain_text_length(slug, models.CharField(max_length=9)) is None
    unstripped = forms.CharField(strip=False)
    assert _plain_text_length(unstripped, models.TextField()) is None


@EXAMPLES
@given(
    cell=st.one_of(
        text,
        st.text(alphabet=" \t\x1c\u3000ab\x00", max_size=6),
        st.sampled_from(["x" * 64, "x" * 65, "x" * 200, "x" * 201]),
    )
)
def test_a_text_taken_without_the_rules_is_what_the_rules_give(cell: str) -> None:
    """The shortcut for plain text columns: the same result as the rules."""
    instance = Product()
    for column in RowRules(with_costs=True).columns:
        if column.plain is not None:
            assert column.clean(cell, instance) == column._clean(cell, instance)
