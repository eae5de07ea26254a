"""Stock alerts decided where a change is logged: the conditions a change
entered and cleared, from the values before and after it."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from shop_manager.models import AlertDismissal, Product, ProductEvent
from shop_manager.models.products import stock_conditions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.SHOP_MANAGER = {"LOW_STOCK_THRESHOLD": 5, "EXPIRING_SOON_DAYS": 7}


def last_alerts() -> dict:
    return ProductEvent.objects.order_by("-id").first().alerts


def test_a_drop_to_the_threshold_raises_low_stock(make_product):
    tea = make_product(quantity=9)
    tea.quantity = 5
    tea.save()
    assert last_alerts() == {
        "entered": ["low_stock"],
        "cleared": [],
        "conditions": ["low_stock"],
        "quantity": 5,
        "expiry_date": None,
    }


def test_selling_the_last_one_trades_low_stock_for_out_of_stock(make_product):
    tea = make_product(quantity=2)
    tea.quantity = 0
    tea.save()
    alerts = last_alerts()
    assert (alerts["entered"], alerts["cleared"]) == (["out_of_stock"], ["low_stock"])


def test_a_change_within_a_condition_raises_nothing_again(make_product):
    tea = make_product(quantity=4)
    tea.quantity = 3
    tea.save()
    assert last_alerts() == {}


def test_restocking_clears_and_a_change_of_name_says_nothing(make_product):
    tea = make_product(quantity=0)
    tea.quantity = 40
    tea.save()
    assert last_alerts()["cleared"] == ["out_of_stock"]
    tea.name = "Green tea"
    tea.save()
    assert last_alerts() == {}


def test_a_lower_own_threshold_clears_low_stock(make_product):
    tea = make_product(quantity=4)
    tea.low_stock_threshold = 2
    tea.save()
    assert last_alerts()["cleared"] == ["low_stock"]


def test_an_expiry_date_inside_the_window_raises_expiring(make_product):
    soon = timezone.localdate() + datetime.timedelta(days=3)
    tea = make_product(quantity=40)
    tea.expiry_date = soon
    tea.save()
    alerts = last_alerts()
    assert alerts["entered"] == ["expiring_soon"]
    assert alerts["expiry_date"] == soon.isoformat()


def test_a_new_product_enters_its_conditions_and_a_deleted_one_clears_them(
    make_product,
):
    tea = make_product(quantity=0)
    assert last_alerts()["entered"] == ["out_of_stock"]
    tea.delete()
    assert last_alerts() == {
        "entered": [],
        "cleared": ["out_of_stock"],
        "conditions": [],
        "quantity": 0,
        "expiry_date": None,
    }


def test_a_change_that_touches_a_condition_forgets_its_dismissal(make_product):
    tea = make_product(quantity=4)
    other = make_product(name="Coffee", quantity=4)
    for product in (tea, other):
        AlertDismissal.objects.create(product_pk=product.pk, condition="low_stock")
    tea.quantity = 30  # Cleared: when it comes back, it is raised again.
    tea.save()
    assert list(AlertDismissal.objects.values_list("product_pk", flat=True)) == [
        other.pk
    ]


def test_the_python_rules_and_the_sql_flags_agree(make_product):
    """One definition of each condition: the model's rules in Python (alerts)
    and in SQL (lists, tiles) give the same answer."""
    today = timezone.localdate()
    dates = [None, *(today + datetime.timedelta(days=d) for d in (-1, 0, 7, 8))]
    for n, (quantity, threshold, expiry) in enumerate(
        itertools.product([0, 1, 5, 6], [None, 0, 6], dates)
    ):
        make_product(
            name=f"P{n}",
            quantity=quantity,
            low_stock_threshold=threshold,
            expiry_date=expiry,
        )
    for product in Product.objects.with_stock_flags():
        flags = {
            "out_of_stock": product.quantity == 0,
            "expired": product.is_expired,
            "low_stock": product.is_low_stock and product.quantity > 0,
            "expiring_soon": product.is_expiring_soon,
        }
        expected = {name for name, on in flags.items() if on}
        assert set(product.stock_conditions()) == expected, product.name
        assert product.stock_conditions() == stock_conditions(
            product.quantity, product.low_stock_threshold, product.expiry_date
        )
