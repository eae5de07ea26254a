"""Hold a process's live events until its sockets are checked for them.

Every commit that may take dashboard access away bumps the access generation
before it returns (:mod:`shop_manager.live.models`), and every event's message
carries the generation read after that event committed. Each socket knows the
generation it was last checked at (``valid_at``: read before the check; 0
for a socket just opened, whose handshake read its user before any
generation). An event may go to this process's sockets at once only if every
one of them was checked at its generation or later; otherwise it waits here,
with everything after it, in order, while one re-validation pass re-checks
the sockets that were not: the pass closes the revoked ones, tells the rest
whether they still see costs, and then the events it covers go out.

So, once a revocation's commit returns, nothing logged after it reaches a
socket it revoked, on any process, whatever the channel layer does with the
revocation's own message: lost with Redis down, sent over another shard, or
overtaken (channels-redis' list layer orders a channel's messages by the
*sender's* clock; its pub/sub layer puts different groups on different
shards). Those messages (``access.recheck``, ``access.revoked``) still start a
pass at once, so idle sockets close too.

The hot path pays one comparison per event while nothing is held. A pass
costs three queries however many sockets it checks
(:func:`shop_manager.live.revalidation.still_valid`), and only follows a
revocation (every socket), sockets opened since the last pass (those only:
so connecting costs no query of its own, and a burst of connects makes one
pass), or the periodic re-check (every socket; it holds nothing back).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from channels.db import database_sync_to_async

from shop_manager.live.protocol import EventMessage
from shop_manager.live.revalidation import Socket, checked_sockets

__all__ = ["HOLD_LIMIT", "Barrier"]

logger = logging.getLogger("shop_manager.live.barrier")

# Characters of event text held at most while a pass runs (a database that
# does not answer holds every event). Past it, events are dropped; the
# heartbeat makes every client fetch them from the log once the pass is done.
HOLD_LIMIT = 4 * 1024 * 1024
# After a pass failed (the database unreachable), wait this long to try again.
RETRY_SECONDS = 1.0
# The generation of a process with no sockets: any event may pass.
NOBODY = sys.maxsize


class Checked(Protocol):
    user_pk: Any
    session_key: str | None
    # The access generation this socket was last checked at.
    valid_at: int
    sees_costs: bool

    def cut_off(self) -> None:
        """Stop sending at once and close with 4403 soon."""


class Barrier:
    """One per fan-out: ``recipients`` is the fan-out's set of sockets (a
    revoked one is taken out of it at once), ``relay`` hands an event to all
    of them, ``dropped`` is told when an event had to be dropped."""

    def __init__(
        self,
        recipients: set[Any],
        relay: Callable[[EventMessage], None],
        dropped: Callable[[], None],
    ) -> None:
        self.recipients = recipients
        self.relay = relay
        self.dropped = dropped
        # Every socket here was checked at this generation or later.
        self.validated = NOBODY
        # Held events, oldest first, each with its generation.
        self.held: deque[tuple[int, EventMessage]] = deque()
        self.held_size = 0
        # The generation a pass must reach; or any pass, when forced.
        self.wanted = 0
        self.forced = False
        self._task: asyncio.Task[None] | None = None

    def admits(self, news: EventMessage) -> bool:
        """Whether ``news`` may go to every socket now; if not, it is held
        (or dropped) and a pass is on its way."""
        if (
            not self.held
            and news.generation is not None
            and news.generation <= self.validated
        ):
            return True
        if news.generation is None:
            # From a process that predates generations: nothing says which
            # revocations it follows. Left to the gap fill, whose reads are
            # checked (shop_manager.live.admission).
            logger.debug("Dropped an event that carries no access generation.")
            self.dropped()
            return False
        if self.held_size + news.size > HOLD_LIMIT:
            logger.warning(
                "Dropped a dashboard event while the sockets' access is being "
                "re-checked; clients fetch it from the log."
            )
            self.dropped()
        else:
            self.held.append((news.generation, news))
            self.held_size += news.size
        self.want(news.generation)
        return False

    def want(self, generation: int | None) -> None:
        """Check every socket at ``generation`` or later (None: in any case,
        as the periodic re-check and an undated request ask)."""
        if generation is None:
            self.forced = True
        elif generation > self.validated:
            self.wanted = max(self.wanted, generation)
        else:
            return
        if self._task is None and self.recipients:
            self._task = asyncio.get_running_loop().create_task(self._passes())

    def joined(self, socket: Checked) -> None:
        """A socket joined, checked at ``socket.valid_at``: the next event
        newer than that waits until a pass has checked it."""
        self.validated = min(self.validated, socket.valid_at)

    def emptied(self) -> None:
        """The last socket left: nothing is owed to anyone."""
        self.validated = NOBODY
        self.held.clear()
        self.held_size = 0
        self.forced = False
        self.wanted = 0
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _passes(self) -> None:
        try:
            while self.recipients and (self.forced or self.wanted > self.validated):
                everyone, self.forced = self.forced, False
                wanted = self.wanted
                sockets: list[Checked] = [
                    socket
                    for socket in self.recipients
                    if everyone or socket.valid_at < wanted
                ]
                if not sockets:  # Those that were not checked have left.
                    self._recount()
                    self._release()
                    continue
                try:
                    generation, verdicts = await database_sync_to_async(
                        checked_sockets
                    )({(socket.user_pk, socket.session_key) for socket in sockets})
                except Exception:
                    logger.warning(
                        "Could not re-check the dashboard sockets; holding "
                        "their events and trying again.",
                        exc_info=True,
                    )
                    self.forced = self.forced or everyone
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                self._apply(sockets, generation, verdicts)
                self._release()
                if generation < wanted:
                    # The database answered with an older generation than an
                    # event already carried: a lagging read replica (or a
                    # deleted row). Hold on, and ask again a little later
                    # rather than at once.
                    logger.warning(
                        "The access generation read (%s) is older than an "
                        "event's (%s); holding its events.",
                        generation,
                        wanted,
                    )
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            if self._task is asyncio.current_task():
                self._task = None

    def _apply(
        self, sockets: list[Checked], generation: int, verdicts: dict[Socket, bool]
    ) -> None:
        for socket in sockets:
            if socket not in self.recipients:
                continue  # Gone meanwhile.
            sees_costs = verdicts.get((socket.user_pk, socket.session_key))
            if sees_costs is None:
                # Out before anything held is released, which follows at once.
                self.recipients.discard(socket)
                socket.cut_off()
            else:
                socket.sees_costs = sees_costs
                socket.valid_at = max(socket.valid_at, generation)
        self._recount()

    def _recount(self) -> None:
        self.validated = min(
            (socket.valid_at for socket in self.recipients), default=NOBODY
        )

    def _release(self) -> None:
        while self.held and self.held[0][0] <= self.validated:
            _, news = self.held.popleft()
            self.held_size -= news.size
            self.relay(news)
