"""Can a database text column hold this string? Asked before a lookup, so
hostile input (from a URL, a search box) never reaches the database."""

from __future__ import annotations

__all__ = ["is_storable"]


def is_storable(text: str, max_length: int) -> bool:
    """Could a text column of ``max_length`` characters hold ``text``?

    Not if it is longer, holds a NUL (PostgreSQL refuses NUL in text and the
    forms reject it; SQLite cuts a LIKE pattern at it and matches everything)
    or a lone surrogate (not encodable as UTF-8, so no driver can send it).
    A lookup for such a value can only find nothing.
    """
    if len(text) > max_length or "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
