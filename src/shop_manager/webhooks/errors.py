"""A failed attempt's error, as text every database stores.

The words come from outside: a receiver writes the body of its 5xx, an
exception its message. Either may hold a NUL (PostgreSQL refuses it in text,
and the save that should count the failure raised instead), a lone surrogate
(no UTF-8 encoding has it) or a great deal of text.
"""

from __future__ import annotations

import re

__all__ = ["ERROR_MAX_CHARS", "storable", "summary"]

# The longest error kept, in the endpoint's last_error and an attempt's error.
ERROR_MAX_CHARS = 1000
# Control characters other than tab and newline: shown as escapes, so a NUL
# or a terminal escape sequence neither breaks a save nor reaches a console.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def storable(text: str, limit: int = ERROR_MAX_CHARS) -> str:
    """``text`` with control characters and lone surrogates escaped
    (``\\x00``, ``\\udc80``), cut to ``limit`` characters."""
    text = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def summary(exc: BaseException) -> str:
    """``TypeError: message``: what is stored of an unexpected exception (the
    log has its traceback)."""
    try:
        message = str(exc)
    except Exception:  # An exception whose __str__ fails still gets a summary.
        message = "(no message)"
    name = type(exc).__name__
    return storable(f"{name}: {message}" if message else name)
