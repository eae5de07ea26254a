"""One socket's access: at its handshake, and where it reads the change log
itself.

The handshake admits users the policy lets watch, as the handshake loaded
them (no query of its own with the default policy). That load came before
any access generation was read, so the socket starts checked at none
(``valid_at`` 0): its process's barrier checks it before it gets any event
logged after a revocation. Live events reach a socket through that barrier
(:mod:`shop_manager.live.barrier`); a socket also reads the log directly: its
replay on connect and every gap fill it asks for (``fetch``). Each such read
answers only a socket still allowed at that moment, even one whose
revocation's message never arrived (Redis down at that moment): the access
generation is read with the events, in their statement; if a revocation
bumped it since the socket was last checked, the socket is checked again,
after the read, and refused if it fails. Otherwise the check costs nothing
more than the events' own query.

One read of the log (:class:`LogRead`) can answer many sockets
(:mod:`shop_manager.live.shared_reads`): the check above is each socket's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shop_manager.live.feed import events_after, replay_frame
from shop_manager.live.models import generation_subquery
from shop_manager.live.protocol import dumps
from shop_manager.live.revalidation import check_socket
from shop_manager.permissions import get_policy

__all__ = [
    "Admission",
    "Batch",
    "LogRead",
    "admit",
    "answer",
    "batch_for",
    "needs_answering_in_thread",
    "read_log",
    "watch_rights",
]


def watch_rights(user: Any) -> tuple[bool, bool]:
    """Whether ``user`` (as the handshake loaded it) may watch the feed, and
    see cost fields in it."""
    policy = get_policy()
    if not policy.can_watch(user):
        return False, False
    return True, policy.can_see_costs(user)


@dataclass(frozen=True)
class Admission:
    """A socket's check: the generation it was made at (read before it), and
    whether the user may see cost fields."""

    valid_at: int
    sees_costs: bool


def admit(user_pk: Any, session_key: str | None) -> Admission | None:
    """Check a socket now, its user and session read afresh from the database
    with the access generation, in one query with a database session engine;
    None when it may not watch."""
    generation, sees_costs = check_socket((user_pk, session_key))
    return None if sees_costs is None else Admission(generation, sees_costs)


@dataclass(frozen=True)
class Batch:
    """A ``batch`` frame and the check it was sent under."""

    text: str
    admission: Admission


@dataclass
class LogRead:
    """Every event after ``after`` (bounded), read once, with the access
    generation read in the same statement."""

    after: int
    events: list[Any]
    more: bool
    generation: int
    # The batch frame's text, with and without cost fields, as asked.
    texts: dict[bool, str] = field(default_factory=dict)

    def text(self, with_costs: bool) -> str:
        text = self.texts.get(with_costs)
        if text is None:
            frame = replay_frame(
                self.after, self.events, more=self.more, with_costs=with_costs
            )
            text = self.texts[with_costs] = dumps(frame)
        return text


def read_log(after: int, with_costs: Iterable[bool] = ()) -> LogRead:
    """Read the events after ``after``; write the frame for each of
    ``with_costs`` now (in the database thread, like the read)."""
    events, more = events_after(after, shop_manager_generation=generation_subquery())
    # Read in the events' statement: a revocation that came before any of
    # them shows in it. No events, nothing to keep from anyone.
    generation = (
        getattr(events[0], "shop_manager_generation", None) or 0 if events else 0
    )
    read = LogRead(after, events, more, generation)
    for variant in with_costs:
        read.text(variant)
    return read


def answer(
    read: LogRead, user_pk: Any, session_key: str | None, admission: Admission
) -> Batch | None:
    """``read`` as a ``batch`` for a socket last checked as ``admission``,
    checked again first if a revocation came since; None when it may no
    longer watch."""
    if read.generation > admission.valid_at:
        checked = admit(user_pk, session_key)
        if checked is None:
            return None
        admission = checked
    return Batch(read.text(admission.sees_costs), admission)


def needs_answering_in_thread(read: LogRead, admission: Admission) -> bool:
    """Whether :func:`answer` would query the database or write a frame."""
    return read.generation > admission.valid_at or (
        admission.sees_costs not in read.texts
    )


def batch_for(
    after: int, user_pk: Any, session_key: str | None, admission: Admission
) -> Batch | None:
    """The ``batch`` frame of every event after ``after`` (bounded), for a
    socket last checked as ``admission``; None when it may no longer watch."""
    return answer(read_log(after), user_pk, session_key, admission)
