"""SHOP_MANAGER["CURRENCY"]: prices with the site's currency on every page
that shows one, and the check (shop_manager.E020) that refuses a bad one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.utils import translation
from django.utils.formats import number_format

from shop_manager.money import (
    Currency,
    InvalidCurrencyError,
    amount_template,
    format_price,
    price_writer,
    resolve_currency,
)
from tests.helpers.page_text import plain
from tests.helpers.products import product_form

# run_checks() runs the database checks too.
pytestmark = pytest.mark.django_db

EURO = {"CODE": "EUR", "SYMBOL": "€", "FORMAT": "{amount} {symbol}"}


def currency_errors() -> list[str]:
    return [m.msg for m in run_checks() if m.id == "shop_manager.E020"]


# Formatting ----------------------------------------------------------------


def test_the_default_is_dollars_before_the_amount():
    assert format_price(Decimal("6.9")) == "$6.90"
    assert format_price("1234567.5") == "$1,234,567.50"


def test_the_setting_places_the_symbol(settings):
    settings.SHOP_MANAGER = {"CURRENCY": EURO}
    assert format_price(Decimal("6.90")) == "6.90 €"
    settings.SHOP_MANAGER = {"CURRENCY": {"CODE": "CHF"}}
    # A symbol longer than a character is kept apart, on the same line.
    assert format_price(Decimal("6.90")) == "CHF\u00a06.90"
    settings.SHOP_MANAGER = {"CURRENCY": {"CODE": "GBP", "SYMBOL": "£"}}
    assert format_price(Decimal("6.90")) == "£6.90"
    settings.SHOP_MANAGER = {"CURRENCY": {"CODE": "JPY", "FORMAT": "{amount} {code}"}}
    assert format_price(Decimal("6.90")) == "6.90 JPY"


def test_none_shows_plain_amounts(settings):
    settings.SHOP_MANAGER = {"CURRENCY": None}
    assert format_price(Decimal("1234.5")) == "1,234.50"
    assert amount_template() == "{amount}"


def test_the_amount_is_written_the_readers_way(settings):
    settings.SHOP_MANAGER = {"CURRENCY": EURO}
    with translation.override("de"):
        assert format_price(Decimal("1234.5")) == "1.234,50 €"


@pytest.mark.parametrize("language", ["en", "de", "fr", "hi"])
def test_a_writer_bound_once_writes_as_number_format(language):
    """price_writer() looks the number format up once; the text is the same."""
    amounts = ["0", "-1234.5", "0.001", "1234567.891", "1e3", str(10**30)]
    with translation.override(language):
        write = price_writer()
        for amount in amounts:
            expected = number_format(
                Decimal(amount), decimal_pos=2, use_l10n=True, force_grouping=True
            )
            assert write(amount) == format_price(amount) == f"${expected}"


@pytest.mark.parametrize("empty", [None, ""])
def test_an_empty_value_is_a_dash(empty):
    assert format_price(empty) == "—"


def test_a_value_that_is_not_a_number_is_shown_as_it_is():
    """An old log row's value is never hidden or turned into an error."""
    assert format_price("n/a") == "n/a"
    assert format_price("NaN") == "NaN"


def test_the_scripts_template_keeps_only_the_amount_to_fill(settings):
    settings.SHOP_MANAGER = {"CURRENCY": {"CODE": "EUR", "SYMBOL": "€"}}
    assert amount_template() == "€{amount}"


def test_resolving_fills_in_what_was_left_out():
    assert resolve_currency({"CODE": "SEK", "SYMBOL": "kr"}) == Currency(
        "SEK", "kr", "{symbol}\u00a0{amount}"
    )


# The check -------------------------------------------------------------------


def test_the_default_and_good_settings_pass(settings):
    assert currency_errors() == []
    for good in (
        EURO,
        {"CODE": "CHF"},
        None,
        {"CODE": "EUR", "FORMAT": "{code} {amount}"},
    ):
        settings.SHOP_MANAGER = {"CURRENCY": good}
        assert currency_errors() == [], good


@pytest.mark.parametrize(
    ("currency", "says"),
    [
        ("EUR", "must be a dict"),
        ({"SYMBOL": "€"}, "'CODE' must be a three-letter"),
        ({"CODE": "euro"}, "'CODE' must be a three-letter"),
        ({"CODE": "eur"}, "three capital letters"),
        ({"CODE": "E1R"}, "three capital letters"),
        ({"CODE": "EUR", "SYMBOL": ""}, "'SYMBOL' must be a non-empty string"),
        ({"CODE": "EUR", "SYMBOL": 3}, "'SYMBOL' must be a non-empty string"),
        ({"CODE": "EUR", "FORMAT": "{symbol}"}, "{amount} exactly once"),
        ({"CODE": "EUR", "FORMAT": "{amount}{amount}"}, "{amount} exactly once"),
        ({"CODE": "EUR", "FORMAT": "{amount:.3f}"}, "may only use"),
        ({"CODE": "EUR", "FORMAT": "{amount} {price}"}, "may only use"),
        ({"CODE": "EUR", "FORMAT": "{amount"}, "malformed"),
        ({"CODE": "EUR", "FORMAT": 5}, "'FORMAT' must be a string"),
        ({"CODE": "EUR", "SYMBL": "€"}, "has 'SYMBL'"),
    ],
)
def test_e020_names_what_is_wrong(settings, currency, says):
    settings.SHOP_MANAGER = {"CURRENCY": currency}
    (message,) = currency_errors()
    assert message.startswith("SHOP_MANAGER['CURRENCY'] ")
    assert says in message
    with pytest.raises(InvalidCurrencyError):
        resolve_currency(currency)


# Where prices show -------------------------------------------------------------


@pytest.fixture
def euros(settings):
    settings.SHOP_MANAGER = {"CURRENCY": EURO}


def test_the_list_and_the_product_page_show_the_currency(
    euros, staff_client, make_product
):
    tea = make_product(price=Decimal("1234.5"), cost_price=Decimal("2.40"))
    listed = staff_client.get("/products/").text
    assert '<span class="sm-price">1,234.50 €</span>' in listed
    page = plain(staff_client.get(tea.get_absolute_url()).text)
    assert "Price 1,234.50 €" in page
    assert "Cost price 2.40 €" in page


def test_the_history_and_the_dashboard_show_price_changes_with_it(
    euros, staff_client, make_product
):
    tea = make_product(price=Decimal("3.50"))
    assert (
        staff_client.post(
            tea.get_absolute_url(), product_form(tea, price="3.75")
        ).status_code
        == 302
    )
    history = plain(staff_client.get(tea.get_absolute_url()).text)
    assert "Price: 3.50 € → 3.75 €" in history
    dashboard = staff_client.get("/dashboard/products/").text
    assert "Price: 3.50 € → 3.75 €" in plain(dashboard)
    # What dashboard.js writes live rows with.
    assert 'data-currency-format="{amount} €"' in dashboard
    assert 'data-money-fields="price cost_price"' in dashboard


def test_the_admin_list_shows_it(euros, admin_client, make_product):
    make_product(price=Decimal("6.90"))
    page = admin_client.get("/admin/shop_manager/product/").text
    assert "6.90 €" in page
    # Still sortable by price.
    assert 'class="sortable column-price_shown"' in page
