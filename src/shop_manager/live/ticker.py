"""One ticker per event loop (so per server process) for all its dashboard sockets.

Every ``HEARTBEAT_SECONDS`` it reads the latest logged id once and queues it
for every socket that was sent nothing since the last tick, so a client
notices events lost in transit even when nothing new happens. The heartbeat
goes through the socket's outbox, behind the events queued before it. Every
``REVALIDATE_SECONDS`` it has the fan-out re-check every socket
(:mod:`shop_manager.live.barrier`): the backstop for changes no signal
announces (a session that expired, ``QuerySet.update()`` on users). Every
tick it also renews its sockets' places among their users'
(:mod:`shop_manager.live.quota`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from channels.db import database_sync_to_async

from shop_manager.conf import get_config
from shop_manager.live.fanout import fanout_for_running_loop
from shop_manager.live.feed import latest_event_id
from shop_manager.live.loops import per_event_loop
from shop_manager.live.presence import presence_for_running_loop
from shop_manager.live.protocol import heartbeat_text
from shop_manager.live.quota import quota_for_running_loop
from shop_manager.live.tasks import within

__all__ = ["Ticker", "ticker_for_running_loop"]

logger = logging.getLogger("shop_manager.live.ticker")


class Watcher(Protocol):
    # Set when the socket is sent anything but a heartbeat; cleared here at
    # each tick.
    sent_since_tick: bool

    def heartbeat(self, text: str) -> None: ...


class Ticker:
    def __init__(self) -> None:
        self.watchers: set[Watcher] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_revalidated = time.monotonic()

    def add(self, watcher: Watcher) -> None:
        self.watchers.add(watcher)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)
        # Nobody left to tell: stop now rather than at the next tick. Not from
        # inside the task itself: its loop ends on its own.
        if self.watchers or self._task is None:
            return
        if self._task is not asyncio.current_task():
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        # A cancel can be lost on Python < 3.12 (shop_manager.live.tasks): a
        # ticker that was replaced stops on its own rather than tick twice.
        while self.watchers and self._task is asyncio.current_task():
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
        fanout = fanout_for_running_loop()
        if idle:
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
            await within(fanout.refresh(), get_config()["HEARTBEAT_SECONDS"])
        except Exception:
            logger.warning("Could not refresh the dashboard group.", exc_info=True)
        try:
            await within(
                quota_for_running_loop().renew(), get_config()["HEARTBEAT_SECONDS"]
            )
        except Exception:
            logger.warning("Could not renew the sockets' places.", exc_info=True)
        # Announces this process's editors; bounded and logged per send.
        await presence_for_running_loop().tick()
        if (
            time.monotonic() - self._last_revalidated
            >= get_config()["REVALIDATE_SECONDS"]
        ):
            self._last_revalidated = time.monotonic()
            fanout.recheck()


ticker_for_running_loop = per_event_loop(Ticker)
