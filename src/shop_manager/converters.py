from __future__ import annotations

__all__ = ["UnicodeSlugConverter"]


class UnicodeSlugConverter:
    """Matches slugs made with ``allow_unicode=True`` ("茶", "café")."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
