"""One socket's access, checked where it reads the change log itself.

Live events reach a socket through its process's barrier
(:mod:`shop_manager.live.barrier`); a socket also reads the log directly: its
replay on connect and every gap fill it asks for (``fetch``). Each such read
answers only a socket still allowed at that moment, even one whose
revocation's message never arrived (Redis down at that moment): the events
are read first, then the access generation; if a revocation bumped it since
the socket was last checked, the socket is checked again, after the read, and
refused if it fails. Otherwise the read costs one query more than the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shop_manager.live.feed import events_after, replay_frame
from shop_manager.live.models import AccessGeneration
from shop_manager.live.protocol import dumps
from shop_manager.live.revalidation import checked_sockets

__all__ = ["Admission", "Batch", "admit", "batch_for"]


@dataclass(frozen=True)
class Admission:
    """A socket's check: the generation it was made at (read before it), and
    whether the user may see cost fields."""

    valid_at: int
    sees_costs: bool


def admit(user_pk: Any, session_key: str | None) -> Admission | None:
    """Check a socket now, its user and session read afresh from the database
    (not the ones its handshake loaded, which a revocation committed since
    would not show); None when it may not watch."""
    socket = (user_pk, session_key)
    generation, verdicts = checked_sockets({socket})
    sees_costs = verdicts.get(socket)
    return None if sees_costs is None else Admission(generation, sees_costs)


@dataclass(frozen=True)
class Batch:
    """A ``batch`` frame and the check it was sent under."""

    text: str
    admission: Admission


def batch_for(
    after: int, user_pk: Any, session_key: str | None, admission: Admission
) -> Batch | None:
    """The ``batch`` frame of every event after ``after`` (bounded), for a
    socket last checked as ``admission``; None when it may no longer watch."""
    events, more = events_after(after)
    if AccessGeneration.objects.current() > admission.valid_at:
        # Read after the events: a revocation that came before any of them
        # shows here.
        checked = admit(user_pk, session_key)
        if checked is None:
            return None
        admission = checked
    frame = replay_frame(after, events, more=more, with_costs=admission.sees_costs)
    return Batch(dumps(frame), admission)
