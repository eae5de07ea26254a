"""The dashboard socket's wire format: every frame it sends is built here and
every frame a client sends is parsed here. Described for people in
docs/protocol.md and for machines in static/shop_manager/schema/live-protocol.json.

Server frames: ``event`` (one change), ``batch`` (a replay or gap fill),
``heartbeat`` (the latest logged id) and ``frames`` (several of those, in
order, sent as one message). Client frame: ``fetch``.

The parsers answer ``None`` for anything they do not understand and never
raise, whatever the input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from shop_manager.changelog.rendering import event_payload

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

__all__ = [
    "MAX_FRAME_LENGTH",
    "after_from_query_string",
    "batch_frame",
    "dumps",
    "event_frame",
    "event_id",
    "event_text",
    "frames_text",
    "heartbeat_text",
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


# Server frames ---------------------------------------------------------------


def dumps(frame: dict[str, Any]) -> str:
    """A frame as sent: compact JSON, non-ASCII text as it is."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def event_frame(event: ProductEvent, *, with_costs: bool = True) -> dict[str, Any]:
    """The ``event`` frame; ``with_costs=False`` leaves out cost-field diffs."""
    return {"type": "event", **event_payload(event, with_costs=with_costs)}


def event_text(event: ProductEvent, *, with_costs: bool = True) -> str:
    return dumps(event_frame(event, with_costs=with_costs))


def batch_frame(
    after: int,
    events: Sequence[ProductEvent],
    *,
    more: bool,
    with_costs: bool = True,
) -> dict[str, Any]:
    """Every event after ``after`` up to ``until``, the id the client then holds
    everything up to; ``more`` says a limit cut it short, so it asks again."""
    return {
        "type": "batch",
        "after": after,
        "until": events[-1].pk if events else after,
        "more": more,
        "events": [event_frame(event, with_costs=with_costs) for event in events],
    }


def heartbeat_text(last_id: int) -> str:
    """The latest logged id: a client holding less fetches the rest."""
    return dumps({"type": "heartbeat", "last_id": last_id})


def frames_text(texts: Sequence[str]) -> str:
    """Several serialised frames as one message, in order; one frame as itself.

    A ``frames`` frame means exactly what its frames would mean sent one by
    one. Built by joining the texts, so nothing is parsed or encoded again.
    """
    if len(texts) == 1:
        return texts[0]
    return '{"type":"frames","frames":[' + ",".join(texts) + "]}"
