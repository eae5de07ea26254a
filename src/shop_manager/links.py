"""Product page URLs, reversed once per slug.

A history page is one product's events and a list page shows each product
once per visit: ``reverse()`` walks the URL resolver every time, so the
answer is kept, keyed on everything else it depends on (the request's
URLconf, the script prefix and the language, for ``i18n_patterns``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

__all__ = ["product_detail_url"]


def product_detail_url(slug: str) -> str | None:
    """The product page's URL, or None where the host did not mount it."""
    return _detail_url(slug, get_urlconf(), get_script_prefix(), get_language())


@lru_cache(maxsize=4096)
def _detail_url(
    slug: str, urlconf: str | None, prefix: str, language: str | None
) -> str | None:
    try:
        return reverse(
            "shop_manager:product-detail", kwargs={"slug": slug}, urlconf=urlconf
        )
    except NoReverseMatch:
        return None


@receiver(setting_changed)
def _forget_urls(*, setting: str, **kwargs: Any) -> None:
    # Django clears its own URL caches then too (tests overriding the URLconf).
    if setting == "ROOT_URLCONF":
        _detail_url.cache_clear()
