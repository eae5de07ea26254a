from __future__ import annotations

from shop_manager.slugs import SLUG_MAX_LENGTH
from shop_manager.storable import is_storable

__all__ = ["UnicodeSlugConverter"]


class UnicodeSlugConverter:
    """Matches slugs made with ``allow_unicode=True`` ("茶", "café").

    A path segment no slug can be (too long, or characters a slug column
    cannot hold) does not match, so it is a 404 without a database query.
    """

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        if not is_storable(value, SLUG_MAX_LENGTH):
            raise ValueError("not a slug")  # The resolver answers 404.
        return value

    def to_url(self, value: str) -> str:
        return value
