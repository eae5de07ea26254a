"""Prices as people read them: the site's currency (``SHOP_MANAGER["CURRENCY"]``)
around an amount written the reader's way ("$1,234.50", "1.234,50 €").

Only what people read goes through here: forms, the CSV files and the
change log keep plain decimals ("1234.50").
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import get_language

from shop_manager.conf import SETTING_NAME, get_config

__all__ = [
    "CURRENCY_KEYS",
    "MONEY_FIELDS",
    "Currency",
    "InvalidCurrencyError",
    "amount_template",
    "format_price",
    "price_writer",
    "resolve_currency",
    "site_currency",
]

# The product fields that hold money, shown with the currency.
MONEY_FIELDS = ("price", "cost_price")
# The keys a CURRENCY dict may have; CODE is required.
CURRENCY_KEYS = frozenset({"CODE", "SYMBOL", "FORMAT"})
# What FORMAT may contain; {amount} must be there, once.
PLACEHOLDERS = frozenset({"amount", "symbol", "code"})
# Products store two decimal places (Product.price, Product.cost_price).
DECIMAL_PLACES = 2
# Nothing is shown for an empty value but this, as everywhere else.
EMPTY = "—"


class InvalidCurrencyError(ValueError):
    """``SHOP_MANAGER["CURRENCY"]`` cannot be used; the message says why."""


@dataclass(frozen=True)
class Currency:
    code: str
    symbol: str
    format: str

    def wrap(self, amount: str) -> str:
        return self.format.format(amount=amount, symbol=self.symbol, code=self.code)


def resolve_currency(value: Any) -> Currency | None:
    """The ``CURRENCY`` setting as a :class:`Currency`, or None (plain amounts).

    ``SYMBOL`` defaults to the code; ``FORMAT`` to the symbol right before the
    amount ("$5.00"), with a non-breaking space after a symbol longer than one
    character ("CHF 5.00").
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidCurrencyError(
            f"must be a dict such as {{'CODE': 'EUR', 'SYMBOL': '€'}} or None, "
            f"not {value!r}"
        )
    unknown = sorted(set(value) - CURRENCY_KEYS, key=repr)
    if unknown:
        raise InvalidCurrencyError(
            f"has {', '.join(repr(key) for key in unknown)}; it takes 'CODE', "
            "'SYMBOL' and 'FORMAT'"
        )
    code = value.get("CODE")
    if not (isinstance(code, str) and len(code) == 3 and code.isascii()):
        raise InvalidCurrencyError(
            f"'CODE' must be a three-letter ISO 4217 code such as 'EUR', not {code!r}"
        )
    if not code.isalpha() or not code.isupper():
        raise InvalidCurrencyError(
            f"'CODE' must be three capital letters such as 'EUR', not {code!r}"
        )
    symbol = value.get("SYMBOL", code)
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidCurrencyError(
            f"'SYMBOL' must be a non-empty string, not {symbol!r}"
        )
    default_format = (
        "{symbol}{amount}" if len(symbol) == 1 else "{symbol}\u00a0{amount}"
    )
    template = value.get("FORMAT", default_format)
    _check_format(template)
    return Currency(code=code, symbol=symbol, format=template)


def _check_format(template: Any) -> None:
    if not isinstance(template, str):
        raise InvalidCurrencyError(f"'FORMAT' must be a string, not {template!r}")
    try:
        fields = [
            (name, spec, conversion)
            for _text, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:  # An unmatched brace.
        raise InvalidCurrencyError(
            f"'FORMAT' {template!r} is malformed: {exc}"
        ) from exc
    names = [name for name, _spec, _conversion in fields]
    if names.count("amount") != 1:
        raise InvalidCurrencyError(
            f"'FORMAT' must contain {{amount}} exactly once, not {template!r}"
        )
    for name, spec, conversion in fields:
        if name not in PLACEHOLDERS or spec or conversion:
            raise InvalidCurrencyError(
                f"'FORMAT' may only use {{amount}}, {{symbol}} and {{code}}, "
                f"not {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} in {template!r}"
            )


@cache
def site_currency() -> Currency | None:
    """The configured currency, checked once per process (a list page writes
    dozens of prices), again after the setting changes."""
    return resolve_currency(get_config()["CURRENCY"])


@receiver(setting_changed)
def _forget_currency(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        site_currency.cache_clear()


def amount_template() -> str:
    """The site's price format with only ``{amount}`` left to fill ("${amount}"),
    for a script that writes prices in the page (dashboard.js)."""
    currency = site_currency()
    return currency.wrap("{amount}") if currency else "{amount}"


def format_price(value: Any) -> str:
    """``value`` (a Decimal, or the string the change log keeps) with the
    site's currency, in the active language's number format; empty as "—".

    A value that is not a number (a log row from some other era) is shown as
    it is rather than hidden.
    """
    # One writer for one price: the same text as a page's many (price_writer).
    return price_writer()(value)


def price_writer() -> Callable[[Any], str]:
    """:func:`format_price` for many prices in the active language: its
    number format and the currency looked up once, not per price (a preview
    writes hundreds; ``number_format`` looks the language up on every call)."""
    language = get_language()
    decimal_separator = get_format("DECIMAL_SEPARATOR", language, use_l10n=True)
    grouping = get_format("NUMBER_GROUPING", language, use_l10n=True)
    thousand_separator = get_format("THOUSAND_SEPARATOR", language, use_l10n=True)
    currency = site_currency()

    def write(value: Any) -> str:
        amount = _amount(value)
        if not isinstance(amount, Decimal):
            return amount
        # What number_format() writes, with the format already looked up.
        written = numberformat.format(
            amount,
            decimal_separator,
            DECIMAL_PLACES,
            grouping,
            thousand_separator,
            force_grouping=True,
            use_l10n=True,
        )
        return currency.wrap(written) if currency else written

    return write


def _amount(value: Any) -> Decimal | str:
    """``value`` as a finite Decimal, or the text to show instead."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return amount if amount.is_finite() else str(value)
