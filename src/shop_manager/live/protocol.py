"""What a dashboard client sends, parsed defensively: the ``?after=`` of the
socket's URL and its text frames. Every parser here answers ``None`` for
anything it does not understand and never raises, whatever the input.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "MAX_FRAME_LENGTH",
    "after_from_query_string",
    "event_id",
    "parse_client_frame",
]

# The only client frame, {"type": "fetch", "after": <19 digits>}, is about 50
# characters. Anything longer is ignored unread, which also bounds JSON nesting
# far below the recursion limit.
MAX_FRAME_LENGTH = 1024
# Ids are 64-bit (BigAutoField): below 2**63, so at most 19 digits. Checked
# before int(), which refuses strings past 4,300 digits with an exception.
MAX_ID_DIGITS = 19
ID_LIMIT = 2**63


def event_id(value: Any) -> int | None:
    """An event id from a JSON integer or a string of ASCII digits, else None."""
    if isinstance(value, str):
        if len(value) > MAX_ID_DIGITS or not (value.isascii() and value.isdigit()):
            return None
        value = int(value)
    # bool is an int subclass: true is not an id.
    if type(value) is not int:
        return None
    return value if 0 <= value < ID_LIMIT else None


def after_from_query_string(query_string: bytes) -> int | None:
    """The id in ``?after=<id>``; None when absent, repeated or not an id."""
    # latin-1 maps every byte, so raw non-UTF-8 bytes cannot raise here.
    values = parse_qs(query_string.decode("latin-1")).get("after", [])
    return event_id(values[0]) if len(values) == 1 else None


def parse_client_frame(text: str | None) -> int | None:
    """The ``after`` id of a ``{"type": "fetch", "after": <id>}`` frame.

    None for anything else: a binary frame (``text`` None), a frame over
    ``MAX_FRAME_LENGTH``, bad JSON, another type, an ``after`` that is not an
    integer id (``"1"``, ``1.5``, ``true``, negative, 2**63 or more).
    """
    if text is None or len(text) > MAX_FRAME_LENGTH:
        return None
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        # ValueError also covers an integer past int()'s digit limit.
        return None
    if not isinstance(frame, dict) or frame.get("type") != "fetch":
        return None
    after = frame.get("after")
    return event_id(after) if type(after) is int else None
