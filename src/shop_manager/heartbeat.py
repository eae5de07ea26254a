"""One ticker per event loop (so per server process) for all its dashboard sockets.

Every ``HEARTBEAT_SECONDS`` it reads the latest logged id once and sends it to
every socket, so a client notices events lost in transit even when nothing new
happens. Every ``REVALIDATE_SECONDS`` it re-checks, with one query for all
sockets, that each user may still watch: the backstop for a revocation whose
channel-layer message was lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from shop_manager.conf import get_config
from shop_manager.fanout import fanout_for_running_loop
from shop_manager.feed import latest_event_id
from shop_manager.loops import per_event_loop
from shop_manager.permissions import get_policy

__all__ = ["Ticker", "ticker_for_running_loop"]

logger = logging.getLogger("shop_manager.heartbeat")


class Watcher(Protocol):
    user_pk: Any

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None: ...
    async def revoke(self) -> None: ...


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
        # inside the ticker itself (a revocation it is carrying out): its loop
        # ends on its own once the socket is closed.
        if (
            not self.watchers
            and self._task is not None
            and self._task is not asyncio.current_task()
        ):
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while self.watchers:
            await asyncio.sleep(get_config()["HEARTBEAT_SECONDS"])
            try:
                await self.tick()
            except Exception:
                logger.exception("Dashboard heartbeat failed; retrying next tick.")

    async def tick(self) -> None:
        latest = await database_sync_to_async(latest_event_id)()
        frame = json.dumps({"type": "heartbeat", "last_id": latest})
        for watcher in list(self.watchers):
            try:
                await watcher.send(text_data=frame)
            except Exception:  # A socket closing under us; its disconnect cleans up.
                self.discard(watcher)
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
            self._last_revalidated = time.monotonic()
            await self.revalidate()

    async def revalidate(self) -> None:
        user_pks = {watcher.user_pk for watcher in self.watchers}
        allowed = await database_sync_to_async(_still_allowed)(user_pks)
        for watcher in list(self.watchers):
            if watcher.user_pk not in allowed:
                await watcher.revoke()


def _still_allowed(user_pks: set[Any]) -> set[Any]:
    policy = get_policy()
    users = get_user_model()._default_manager.filter(pk__in=user_pks)
    return {user.pk for user in users if policy.can_watch(user)}


ticker_for_running_loop = per_event_loop(Ticker)
