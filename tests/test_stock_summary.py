"""The dashboard's tiles and its "Needs attention" panel, as the page loads
them (shop_manager.stock_summary); later changes reach them live."""

from __future__ import annotations

import datetime
import itertools
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from shop_manager.models import Product, ProductEvent
from shop_manager.stock_summary import changes_today, needs_attention, stock_counts
from tests.helpers.page_text import plain

pytestmark = pytest.mark.django_db

URL = "/dashboard/products/"


@pytest.fixture
def shelves(make_product, settings):
    """One product in each state, by the list's own rules."""
    settings.SHOP_MANAGER = {"LOW_STOCK_THRESHOLD": 5, "EXPIRING_SOON_DAYS": 7}
    today = timezone.localdate()
    return {
        "plenty": make_product(name="Plenty", quantity=50),
        "low": make_product(name="Low", quantity=3),
        "own threshold": make_product(name="Own", quantity=8, low_stock_threshold=10),
        "sold out": make_product(name="Sold out", quantity=0),
        "soon": make_product(
            name="Soon", quantity=40, expiry_date=today + datetime.timedelta(2)
        ),
        "expired": make_product(
            name="Expired", quantity=40, expiry_date=today - datetime.timedelta(1)
        ),
        "low and soon": make_product(
            name="Both", quantity=1, expiry_date=today + datetime.timedelta(1)
        ),
    }


def test_the_counts_follow_the_lists_rules(shelves):
    assert stock_counts() == {
        "products": 7,
        "out_of_stock": 1,
        # Low but not out: an empty shelf is counted once, as out of stock.
        "low_stock": 3,
        "expired": 1,
        "expiring_soon": 2,
        "attention": 6,
    }


def test_the_most_urgent_come_first(shelves):
    listed = [
        (item.product.name, item.conditions, item.level) for item in needs_attention()
    ]
    assert listed == [
        ("Sold out", ("out_of_stock",), "danger"),
        ("Expired", ("expired",), "danger"),
        ("Both", ("low_stock", "expiring_soon"), "warn"),
        ("Low", ("low_stock",), "warn"),
        ("Own", ("low_stock",), "warn"),
        ("Soon", ("expiring_soon",), "warn"),
    ]
    assert len(needs_attention(limit=2)) == 2


def test_the_page_shows_the_tiles_and_the_panel(staff_client, shelves):
    html = staff_client.get(URL).text
    tiles = dict(
        re.findall(
            r'data-tile="(\w+)".*?<span class="sm-tile-value" data-tile-value>([^<]*)</span>',
            html,
            re.S,
        )
    )
    assert tiles == {
        "products": "7",
        "low_stock": "3",
        "out_of_stock": "1",
        "expiring_soon": "2",
        "changes_today": "7",
    }
    panel = plain(
        html[html.index('id="sm-alerts-title"') : html.index('id="sm-activity-title"')]
    )
    assert "Needs attention 6" in panel
    assert "Sold out Out of stock Dismiss" in panel
    soon = (timezone.localdate() + datetime.timedelta(1)).isoformat()
    # One alert per product and condition, each dismissable on its own.
    assert f"Both Low stock: 1 left Dismiss Both Expires on {soon} Dismiss" in panel
    assert "Plenty" not in panel
    assert "Nothing needs attention" in panel  # There, hidden, for a script.
    assert re.search(r"<p [^>]*data-alerts-empty[^>]* hidden>", html)


def test_a_shop_in_order_says_so(staff_client, make_product):
    make_product(quantity=50)
    html = staff_client.get(URL).text
    assert re.search(r"<p [^>]*data-alerts-empty>", html)
    assert '<li class="sm-alert"' not in html


def event(when: datetime.datetime) -> dict[str, str]:
    return {"time": when.isoformat()}


def test_changes_today_counts_from_midnight_in_the_sites_time_zone(settings):
    settings.TIME_ZONE = "Asia/Kathmandu"
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    events = [
        event(midnight - datetime.timedelta(minutes=1)),
        event(midnight),
        event(midnight + datetime.timedelta(hours=1)),
    ]
    assert changes_today(events, complete=True) == (2, False)


def test_changes_today_says_when_there_may_be_more():
    """Every event the page holds is from today and the log has older ones:
    the count is a lower bound ("50+"), not a guess."""
    now = timezone.now()
    events = [event(now), event(now)]
    assert changes_today(events, complete=False) == (2, True)
    assert changes_today(events, complete=True) == (2, False)
    assert changes_today([], complete=False) == (0, False)


def test_the_tile_shows_the_lower_bound(staff_client, make_product, settings):
    settings.SHOP_MANAGER = {"DASHBOARD_EVENTS": 2}
    for n in range(3):
        make_product(name=f"P{n}")
    assert ProductEvent.objects.count() == 3
    html = staff_client.get(URL).text
    assert re.search(
        r'data-tile="changes_today".*?data-tile-value>2\+</span>', html, re.S
    )


def _by_the_lists_rules() -> dict[str, int]:
    """The counts as one pass over ``with_stock_flags()`` would take them:
    what the indexed statement (shop_manager.stock_statements) must equal."""
    flagged = Product.objects.with_stock_flags()
    out = Q(quantity=0)
    low = Q(is_low_stock=True, quantity__gt=0)
    expired = Q(is_expired=True)
    soon = Q(is_expiring_soon=True)
    return {
        "products": flagged.count(),
        "out_of_stock": flagged.filter(out).count(),
        "low_stock": flagged.filter(low).count(),
        "expired": flagged.filter(expired).count(),
        "expiring_soon": flagged.filter(soon).count(),
        "attention": flagged.filter(out | low | expired | soon).count(),
    }


@pytest.mark.parametrize(("threshold", "soon_days"), [(5, 7), (0, 0), (12, 30)])
@pytest.mark.django_db
def test_the_counts_equal_one_pass_by_the_lists_rules(settings, threshold, soon_days):
    """Every combination of quantity, own threshold and expiry at the edges:
    the split counts add up to the conditions, each product counted once."""
    settings.SHOP_MANAGER = {
        "LOW_STOCK_THRESHOLD": threshold,
        "EXPIRING_SOON_DAYS": soon_days,
    }
    today = timezone.localdate()
    dates = [None, *(today + datetime.timedelta(days) for days in (-1, 0, 7, 8, 31))]
    # In one statement: 180 saves, each logged, cost seconds in every env.
    Product.objects.bulk_create(
        Product(
            name=f"{quantity}-{own}-{expiry}",
            slug=f"product-{n}",
            price=Decimal("3.50"),
            quantity=quantity,
            low_stock_threshold=own,
            expiry_date=expiry,
        )
        for n, (quantity, own, expiry) in enumerate(
            itertools.product((0, 1, 5, 6, 12, 13), (None, 0, 1, 6, 20), dates)
        )
    )
    assert stock_counts() == _by_the_lists_rules()
    # The panel: the first of each urgency are the candidates; the page is
    # the same as ordering every product in a condition.
    for limit in (1, 3, 8, 40):
        listed = [item.product.pk for item in needs_attention(limit=limit)]
        assert listed == _most_urgent(limit)


def _most_urgent(limit: int) -> list[int]:
    """The panel's page as one ordering of every product in a condition."""
    out = Q(quantity=0)
    low = Q(is_low_stock=True, quantity__gt=0)
    expired = Q(is_expired=True)
    urgency = Case(
        When(out, then=Value(0)),
        When(expired, then=Value(1)),
        When(low, then=Value(2)),
        default=Value(3),
    )
    return list(
        Product.objects.with_stock_flags()
        .filter(out | low | expired | Q(is_expiring_soon=True))
        .annotate(urgency=urgency)
        .order_by("urgency", F("expiry_date").asc(nulls_last=True), "name", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def test_the_counts_are_never_stale(make_product, settings):
    """The statements' text is kept, never their answer: a bulk update, a new
    setting and the next day are all counted on the next page load."""
    settings.SHOP_MANAGER = {"LOW_STOCK_THRESHOLD": 5, "EXPIRING_SOON_DAYS": 7}
    tea = make_product(quantity=50)
    assert stock_counts()["out_of_stock"] == 0
    Product.objects.filter(pk=tea.pk).update(quantity=0)
    assert stock_counts()["out_of_stock"] == 1
    assert [item.conditions for item in needs_attention()] == [("out_of_stock",)]
    Product.objects.filter(pk=tea.pk).update(
        quantity=20, expiry_date=timezone.localdate() + datetime.timedelta(10)
    )
    assert stock_counts()["attention"] == 0
    settings.SHOP_MANAGER = {"LOW_STOCK_THRESHOLD": 25, "EXPIRING_SOON_DAYS": 7}
    assert stock_counts()["low_stock"] == 1
    tomorrow = timezone.now() + datetime.timedelta(days=4)
    with mock.patch("django.utils.timezone.now", return_value=tomorrow):
        assert stock_counts()["expiring_soon"] == 1
        assert [item.conditions for item in needs_attention()] == [
            ("low_stock", "expiring_soon")
        ]
