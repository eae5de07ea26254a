"""The live feed's wire formats, each built and parsed here and nowhere else.

Frames, on the dashboard socket (described for people in docs/protocol.md
and for machines in static/shop_manager/schema/live-protocol.json):

- server frames: ``event`` (one change), ``batch`` (a replay or gap fill),
  ``heartbeat`` (the latest logged id), ``presence`` (who else has a
  product's edit form open), ``alert_dismissed`` (someone took a stock alert
  down) and ``frames`` (several of those, in order, sent as one message);
- client frames: ``fetch``, and ``presence`` (this socket's page is a
  product's edit form).

Messages between processes, on the channel layer (each process's fan-out
dispatches them by type to the handler Channels would name:
``product.event`` → ``product_event``):

- ``product.event``: an event's frame, serialised once for every socket
  (and once more without cost fields), or a bulk change's heartbeat;
- ``access.revoked``: close the sockets of the session whose group it names;
- ``access.recheck``: re-validate every socket;
- ``presence.update``: a socket has a product's edit form open (again), or
  has left it (:mod:`shop_manager.live.presence`);
- ``alert.dismissed``: an ``alert_dismissed`` frame for every socket.

All of them travel on the dashboard group, one ordered stream per process, and
carry the access generation (:mod:`shop_manager.live.models`).

A new frame or message type gets its builder (and parser) here, its place in
``MESSAGE_TYPES`` for a message, and a handler of that name in the fan-out.

The parsers answer ``None`` for anything they do not understand and never
raise, whatever the input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from shop_manager.changelog.rendering import (
    event_payload,
    has_cost_changes,
    site_language,
)
from shop_manager.models.events import event_id

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

__all__ = [
    "ACCESS_RECHECK",
    "ACCESS_REVOKED",
    "ALERT_DISMISSED",
    "MAX_FRAME_LENGTH",
    "MESSAGE_TYPES",
    "PRESENCE_UPDATE",
    "PRODUCT_EVENT",
    "EventMessage",
    "PresenceUpdate",
    "RecheckMessage",
    "RevokedMessage",
    "after_from_query_string",
    "batch_frame",
    "bulk_message",
    "dismissed_message",
    "dumps",
    "event_frame",
    "event_id",
    "event_message",
    "event_text",
    "frames_text",
    "heartbeat_text",
    "older_page",
    "parse_client_frame",
    "parse_dismissed_message",
    "parse_event_message",
    "parse_presence_frame",
    "parse_presence_message",
    "parse_presence_updates",
    "parse_recheck_message",
    "parse_revoked_message",
    "presence_message",
    "presence_renewals",
    "presence_text",
    "recheck_message",
    "revoked_message",
]

# The only client frame, {"type": "fetch", "after": <19 digits>}, is about 50
# characters. Anything longer is ignored unread, which also bounds JSON nesting
# far below the recursion limit.
MAX_FRAME_LENGTH = 1024

# Messages between processes: their types, each handled by the fan-out's
# method of the same name with "_" for "." (Channels' get_handler_name()).
PRODUCT_EVENT = "product.event"
ACCESS_REVOKED = "access.revoked"
ACCESS_RECHECK = "access.recheck"
PRESENCE_UPDATE = "presence.update"
ALERT_DISMISSED = "alert.dismissed"
MESSAGE_TYPES = frozenset(
    {PRODUCT_EVENT, ACCESS_REVOKED, ACCESS_RECHECK, PRESENCE_UPDATE, ALERT_DISMISSED}
)
# A name in a presence message is cut to this many characters (a user's full
# name is at most 150 + 1 + 150 in Django's model).
MAX_NAME_LENGTH = 301
# Editors one renewal message names at most: a tick of 1,000 open forms is
# ten messages, not a thousand channel-layer round trips one after another
# (which did not fit in a heartbeat). About 100 bytes an editor.
RENEWAL_BATCH = 100


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
    return _client_id(text, "fetch", "after")


def parse_presence_frame(text: str | None) -> int | None:
    """The product id of a ``{"type": "presence", "product": <id>}`` frame
    (this socket's page is that product's edit form); None for anything else,
    judged as :func:`parse_client_frame` judges a ``fetch``."""
    return _client_id(text, "presence", "product")


def _client_id(text: str | None, frame_type: str, key: str) -> int | None:
    """The integer id under ``key`` of a client frame of ``frame_type``."""
    if text is None or len(text) > MAX_FRAME_LENGTH:
        return None
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        # ValueError also covers an integer past int()'s digit limit.
        return None
    if not isinstance(frame, dict) or frame.get("type") != frame_type:
        return None
    value = frame.get(key)
    return event_id(value) if type(value) is int else None


# Server frames ---------------------------------------------------------------


def dumps(frame: dict[str, Any]) -> str:
    """A frame as sent: compact JSON, non-ASCII text as it is."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def event_frame(event: ProductEvent, *, with_costs: bool = True) -> dict[str, Any]:
    """The ``event`` frame, worded in the active language (a page's reader's);
    ``with_costs=False`` leaves out cost-field diffs."""
    return {"type": "event", **event_payload(event, with_costs=with_costs)}


def event_text(event: ProductEvent, *, with_costs: bool = True) -> str:
    """The ``event`` frame as sent to every socket: in the site's language."""
    with site_language():
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


def older_page(
    before: int,
    events: Sequence[ProductEvent],
    *,
    more: bool,
    with_costs: bool = True,
) -> dict[str, Any]:
    """The older-events endpoint's JSON (not a socket frame): ``events``
    (oldest first) older than ``before``; ``more`` says older ones remain."""
    return {
        "before": before,
        "more": more,
        "events": [event_frame(event, with_costs=with_costs) for event in events],
    }


def heartbeat_text(last_id: int) -> str:
    """The latest logged id: a client holding less fetches the rest."""
    return dumps({"type": "heartbeat", "last_id": last_id})


def presence_text(product: int, names: Sequence[str]) -> str:
    """Who else has ``product``'s edit form open, by name, sorted."""
    return dumps({"type": "presence", "product": product, "editors": list(names)})


def frames_text(texts: Sequence[str]) -> str:
    """Several serialised frames as one message, in order; one frame as itself.

    A ``frames`` frame means exactly what its frames would mean sent one by
    one. Built by joining the texts, so nothing is parsed or encoded again.
    """
    if len(texts) == 1:
        return texts[0]
    return '{"type":"frames","frames":[' + ",".join(texts) + "]}"


# Messages between processes ---------------------------------------------------


def event_message(event: ProductEvent, generation: int) -> dict[str, Any]:
    """``product.event`` for one committed event: its frame serialised once,
    and, when the change touched a cost field, once more without it
    (``redacted``), for sockets whose user may not see costs.

    ``generation`` is the access generation read after the event committed
    (:mod:`shop_manager.live.models`): a process delivers the event only to
    sockets it has checked at that generation or later.
    """
    message = {
        "type": PRODUCT_EVENT,
        "id": event.pk,
        "generation": generation,
        "text": event_text(event),
    }
    if has_cost_changes(event):
        message["redacted"] = event_text(event, with_costs=False)
    return message


def bulk_message(last_id: int, generation: int) -> dict[str, Any]:
    """``product.event`` for a bulk change: one heartbeat with its newest id,
    whatever its size; dashboards fetch the range from the log."""
    return {
        "type": PRODUCT_EVENT,
        "generation": generation,
        "text": heartbeat_text(last_id),
    }


@dataclass(frozen=True)
class EventMessage:
    """A ``product.event`` as the fan-out forwards it."""

    # The frame for sockets that see costs, and for those that do not.
    text: str
    redacted: str
    # The event's id; None for a bulk change's heartbeat, which names no
    # single event.
    event_id: int | None
    # The access generation read after the event committed; None from a
    # sender that predates it, whose event no socket can be known to be
    # cleared for (the fan-out leaves it to the heartbeat's gap fill).
    generation: int | None
    # True for a notice that is no log event (an alert dismissed): it says
    # nothing of the log's latest id.
    notice: bool = False

    @property
    def size(self) -> int:
        """Characters held while the message waits (both texts when they differ)."""
        if self.redacted is self.text:
            return len(self.text)
        return len(self.text) + len(self.redacted)


def parse_event_message(message: dict[str, Any]) -> EventMessage | None:
    text = message.get("text")
    if not isinstance(text, str):
        return None
    redacted = message.get("redacted", text)  # Absent: no cost field changed.
    if not isinstance(redacted, str):
        return None
    logged = message.get("id")
    return EventMessage(
        text,
        redacted,
        logged if type(logged) is int else None,
        _generation(message),
    )


def dismissed_message(
    product_pk: int, condition: str, by: str | None, generation: int
) -> dict[str, Any]:
    """``alert.dismissed``: the ``alert_dismissed`` frame for every socket,
    serialised once. It names a product, so it passes the barrier as an
    event does (``generation``: read after the dismissal committed)."""
    frame = {
        "type": "alert_dismissed",
        "product": product_pk,
        "condition": condition,
        "by": by,
    }
    return {"type": ALERT_DISMISSED, "generation": generation, "text": dumps(frame)}


def parse_dismissed_message(message: dict[str, Any]) -> EventMessage | None:
    """The frame to forward (the same for every socket: it has no cost)."""
    text = message.get("text")
    if not isinstance(text, str):
        return None
    return EventMessage(text, text, None, _generation(message), notice=True)


def revoked_message(group: str, generation: int | None) -> dict[str, Any]:
    """``access.revoked`` for the sockets of the session whose group this is.

    Sent to every process on the dashboard group, in the same ordered stream
    as the events; each process closes the sockets that session opened there.
    ``generation`` is the access generation the logout bumped to (None when
    the bump failed).
    """
    return _with_generation({"type": ACCESS_REVOKED, "group": group}, generation)


@dataclass(frozen=True)
class RevokedMessage:
    # The session group whose sockets close; None from a sender that names
    # none, which asks for every socket to be re-checked instead.
    group: str | None


def parse_revoked_message(message: dict[str, Any]) -> RevokedMessage | None:
    if "group" not in message:
        return RevokedMessage(None)
    group = message["group"]
    return RevokedMessage(group) if isinstance(group, str) else None


def recheck_message(generation: int | None) -> dict[str, Any]:
    """``access.recheck``: every process re-validates its sockets, unless it
    already checked them at ``generation`` or later (None: in any case)."""
    return _with_generation({"type": ACCESS_RECHECK}, generation)


@dataclass(frozen=True)
class RecheckMessage:
    # The generation the change that asks bumped to; None: re-check anyway.
    generation: int | None


def parse_recheck_message(message: dict[str, Any]) -> RecheckMessage:
    return RecheckMessage(_generation(message))


def presence_message(
    product: int, key: str, name: str, *, left: bool = False
) -> dict[str, Any]:
    """``presence.update``: the socket ``key`` (unique to it, across
    processes) has ``product``'s edit form open, for a user called ``name``;
    or, with ``left``, no longer has."""
    message: dict[str, Any] = {
        "type": PRESENCE_UPDATE,
        "product": product,
        "key": key,
        "name": name[:MAX_NAME_LENGTH],
    }
    if left:
        message["left"] = True
    return message


def presence_renewals(
    editors: Sequence[tuple[int, str, str]],
) -> list[dict[str, Any]]:
    """``presence.update`` messages saying each of ``editors`` (product,
    socket key, name) still has that form open, up to ``RENEWAL_BATCH`` a
    message. (A process that predates them finds no ``product`` and ignores
    them: its copies of these editors expire, never its own.)"""
    return [
        {
            "type": PRESENCE_UPDATE,
            "editors": [
                [product, key, name[:MAX_NAME_LENGTH]]
                for product, key, name in editors[start : start + RENEWAL_BATCH]
            ],
        }
        for start in range(0, len(editors), RENEWAL_BATCH)
    ]


@dataclass(frozen=True)
class PresenceUpdate:
    product: int
    key: str
    name: str
    left: bool


def parse_presence_message(message: dict[str, Any]) -> PresenceUpdate | None:
    product, key, name = message.get("product"), message.get("key"), message.get("name")
    if type(product) is not int or not isinstance(key, str):
        return None
    if not isinstance(name, str):
        return None
    return PresenceUpdate(
        product, key, name[:MAX_NAME_LENGTH], message.get("left") is True
    )


def parse_presence_updates(message: dict[str, Any]) -> list[PresenceUpdate]:
    """Every update a ``presence.update`` message carries: one editor's
    (:func:`presence_message`) or many renewals (:func:`presence_renewals`);
    malformed entries are skipped."""
    editors = message.get("editors")
    if not isinstance(editors, list):
        single = parse_presence_message(message)
        return [] if single is None else [single]
    updates = []
    for entry in editors:
        if isinstance(entry, (list, tuple)) and len(entry) == 3:
            product, key, name = entry
            update = parse_presence_message(
                {"product": product, "key": key, "name": name}
            )
            if update is not None:
                updates.append(update)
    return updates


def _with_generation(message: dict[str, Any], generation: int | None) -> dict[str, Any]:
    if generation is not None:
        message["generation"] = generation
    return message


def _generation(message: dict[str, Any]) -> int | None:
    generation = message.get("generation")
    return generation if type(generation) is int else None
