"""One ticker per event loop (so per server process) for all its dashboard sockets.

Every ``HEARTBEAT_SECONDS`` it reads the latest logged id once and queues it
for every socket that was sent nothing since the last tick, so a client
notices events lost in transit even when nothing new happens. The heartbeat
goes through the socket's outbox, behind the events queued before it. It re-validates every socket (:mod:`shop_manager.live.revalidation`: the
user may still watch and the session that opened the socket still logs them
in) when a "re-check now" broadcast arrives (:mod:`shop_manager.live.revocation`), a
burst of them coalesced into one pass, and every ``REVALIDATE_SECONDS`` as the
backstop for a broadcast that was lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from channels.db import database_sync_to_async

from shop_manager.conf import get_config
from shop_manager.live.fanout import fanout_for_running_loop
from shop_manager.live.feed import latest_event_id
from shop_manager.live.loops import per_event_loop
from shop_manager.live.protocol import heartbeat_text
from shop_manager.live.revalidation import still_valid

__all__ = ["RECHECK_DELAY", "Ticker", "ticker_for_running_loop"]

logger = logging.getLogger("shop_manager.live.ticker")

# How long a "re-check now" waits for more of its burst (a transaction deleting
# a hundred sessions commits them together; a script saving users one by one
# sends one broadcast each) before the one pass that answers them all.
RECHECK_DELAY = 0.25


class Watcher(Protocol):
    user_pk: Any
    session_key: str | None
    # Set when the socket is sent anything but a heartbeat; cleared here at
    # each tick.
    sent_since_tick: bool

    def heartbeat(self, text: str) -> None: ...
    async def revoke(self) -> None: ...


class Ticker:
    def __init__(self) -> None:
        self.watchers: set[Watcher] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_revalidated = time.monotonic()
        self._recheck_wanted = False
        self._recheck_task: asyncio.Task[None] | None = None

    def add(self, watcher: Watcher) -> None:
        self.watchers.add(watcher)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)
        # Nobody left to tell: stop now rather than at the next tick. Not from
        # inside the task itself (a revocation it is carrying out): its loop
        # ends on its own once the socket is closed.
        if self.watchers:
            return
        current = asyncio.current_task()
        for task in (self._task, self._recheck_task):
            if task is not None and task is not current:
                task.cancel()
        if self._task is not current:
            self._task = None

    def recheck_soon(self) -> None:
        """Re-validate every socket shortly; a burst of calls makes one pass."""
        self._recheck_wanted = True
        if self.watchers and (self._recheck_task is None or self._recheck_task.done()):
            self._recheck_task = asyncio.get_running_loop().create_task(self._recheck())

    async def _recheck(self) -> None:
        # A call that arrives while a pass reads the database may be about a
        # change that pass did not see: it makes one more.
        while self._recheck_wanted and self.watchers:
            await asyncio.sleep(RECHECK_DELAY)
            self._recheck_wanted = False
            try:
                await self.revalidate()
            except Exception:
                logger.exception(
                    "Could not re-check the dashboard sockets; the periodic "
                    "re-check will."
                )

    async def _run(self) -> None:
        while self.watchers:
            await asyncio.sleep(get_config()["HEARTBEAT_SECONDS"])
            try:
                await self.tick()
            except Exception:
                logger.exception("Dashboard heartbeat failed; retrying next tick.")

    async def tick(self) -> None:
        idle = []
        for watcher in list(self.watchers):
            if watcher.sent_since_tick:
                watcher.sent_since_tick = False
            else:
                idle.append(watcher)
        if idle:
            fanout = fanout_for_running_loop()
            epoch = fanout.epoch
            latest = await database_sync_to_async(latest_event_id)()
            # Sockets that connect before the next tick start from here.
            fanout.note_latest(latest, epoch)
            frame = heartbeat_text(latest)
            for watcher in idle:
                # Into the socket's outbox, behind what is already queued there.
                watcher.heartbeat(frame)
        # After the heartbeats: they come from the database and must go out
        # even while the channel layer is down. Bounded, because a hung Redis
        # never answers and would hold the next heartbeat for redis-py's
        # socket_timeout.
        try:
            await asyncio.wait_for(
                fanout_for_running_loop().refresh(), get_config()["HEARTBEAT_SECONDS"]
            )
        except Exception:
            logger.warning("Could not refresh the dashboard group.", exc_info=True)
        if (
            time.monotonic() - self._last_revalidated
            >= get_config()["REVALIDATE_SECONDS"]
        ):
            await self.revalidate()

    async def revalidate(self) -> None:
        """Close, with one database pass, every socket that may not stay open."""
        self._last_revalidated = time.monotonic()
        watchers = list(self.watchers)
        if not watchers:
            return
        valid = await database_sync_to_async(still_valid)(
            {(watcher.user_pk, watcher.session_key) for watcher in watchers}
        )
        for watcher in watchers:
            # Skip one that closed meanwhile (or that another pass revoked).
            if (
                watcher in self.watchers
                and (watcher.user_pk, watcher.session_key) not in valid
            ):
                await watcher.revoke()


def _ticker_for_this_loop() -> Ticker:
    ticker = Ticker()
    # The fan-out's channel hears the "re-check now" broadcasts for this process.
    fanout_for_running_loop().on_recheck = ticker.recheck_soon
    return ticker


ticker_for_running_loop = per_event_loop(_ticker_for_this_loop)
