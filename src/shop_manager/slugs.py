"""Slugs: made once from the name, unique, never empty, readable for unicode."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.text import slugify

__all__ = [
    "FALLBACK_SLUG",
    "RESERVED_SLUGS",
    "SLUG_MAX_LENGTH",
    "next_free_slug",
    "slug_base",
]

FALLBACK_SLUG = "product"
# The slug column's length: no product's slug, so no product URL, is longer.
SLUG_MAX_LENGTH = 220
# Path segments the URLconf uses under /products/; a product may not shadow them.
RESERVED_SLUGS = frozenset({"create", "import"})


def slug_base(name: str, max_length: int) -> str:
    """Return the slug a name would get before any collision suffix.

    ASCII first ("Café crème" -> "cafe-creme") so most URLs stay plain; a name
    with no ASCII letters keeps its own script ("茶" -> "茶") rather than
    collapsing to nothing; a name of only symbols gets ``FALLBACK_SLUG``.
    """
    base = slugify(name) or slugify(name, allow_unicode=True)
    return base[:max_length].strip("-_") or FALLBACK_SLUG


def collision_pattern(base: str) -> str:
    """A regex matching ``base`` and ``base-<n>``, for finding taken slugs."""
    return rf"^{re.escape(base)}(-[0-9]+)?$"


def next_free_slug(base: str, taken: Iterable[str], max_length: int) -> str:
    """Return ``base``, or ``base-2``, ``base-3``... the first not in ``taken``."""
    taken = {*taken, *RESERVED_SLUGS}
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: max_length - len(suffix)].rstrip("-_") + suffix
        if candidate not in taken:
            return candidate
        number += 1
