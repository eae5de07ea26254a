"""Product URLs reversed once per slug, yet always what reverse() says."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, set_script_prefix

from shop_manager.links import product_detail_url

# A URLconf without the product pages.
urlpatterns: list[object] = []


def test_the_url_is_reverse_s_and_follows_the_script_prefix():
    assert product_detail_url("tea") == "/products/tea/"
    set_script_prefix("/shop/")
    try:
        assert product_detail_url("tea") == "/shop/products/tea/"
    finally:
        set_script_prefix("/")
    assert product_detail_url("tea") == "/products/tea/"


def test_unicode_slugs_are_quoted_as_reverse_quotes_them():
    assert product_detail_url("茶") == "/products/%E8%8C%B6/"


def test_a_urlconf_without_the_pages_is_seen_at_once(settings, make_product):
    tea = make_product(name="Tea")
    assert product_detail_url(tea.slug) == f"/products/{tea.slug}/"
    settings.ROOT_URLCONF = "tests.test_links"
    assert product_detail_url(tea.slug) is None
    # Models keep raising as reverse() does where the pages are not mounted.
    with pytest.raises(NoReverseMatch):
        tea.get_absolute_url()
