"""The dashboard socket: replay from the change log, then live events.

Everything the socket sends after its opening frame (live events from the
fan-out, fetch replies, heartbeats) goes through its one outbox, written by
its one writer task, so frames leave in the order they were queued. Frames
that pile up while the client is slow leave together as one ``frames``
message; at low load each leaves alone, at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from shop_manager.conf import get_config
from shop_manager.live.fanout import fanout_for_running_loop
from shop_manager.live.feed import batch_after, latest_event_id
from shop_manager.live.groups import session_group
from shop_manager.live.layer_buffers import forget_channel
from shop_manager.live.protocol import (
    after_from_query_string,
    dumps,
    frames_text,
    heartbeat_text,
    parse_client_frame,
)
from shop_manager.live.ticker import ticker_for_running_loop
from shop_manager.permissions import get_policy

__all__ = ["CLOSE_FORBIDDEN", "ProductFeedConsumer"]

logger = logging.getLogger("shop_manager.live.consumer")

# Frames a socket may have queued before it counts as too far behind.
OUTBOX_SIZE = 1000
# Most queued frames one message carries, so one message stays a sane size.
MAX_FRAMES_PER_MESSAGE = 100
# Application close code sent when the user may no longer watch.
CLOSE_FORBIDDEN = 4403
# What disconnect() is told when the consumer ended without a client close.
CLOSE_INTERNAL_ERROR = 1011


class ProductFeedConsumer(AsyncWebsocketConsumer):
    """``ws/products/?after=<id>``: every event after ``id``, then live ones.

    The frames are those of :mod:`shop_manager.live.protocol`.
    """

    user_pk: Any = None
    # Whether this user may see cost fields; frames leave them out otherwise.
    sees_costs: bool = False
    # The session that opened the socket: the socket lives no longer than it.
    session_key: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read per socket so override_settings reaches it; types-channels
        # declares it a ClassVar, but Channels reads it from the instance.
        self.channel_layer_alias = get_config()["CHANNEL_LAYER"]  # type: ignore[misc]
        self.joined: list[str] = []
        # Every frame after the first, written in order by this socket's own task.
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self.writer: asyncio.Task[None] | None = None
        # Whether anything but a heartbeat was queued since the ticker last
        # looked: a socket that just got frames needs no heartbeat.
        self.sent_since_tick = False
        self.revoked = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not await database_sync_to_async(get_policy().can_watch)(
            user
        ):
            await self.close()  # Before accept(): the handshake gets a 403.
            return
        self.user_pk = user.pk
        self.sees_costs = await database_sync_to_async(get_policy().can_see_costs)(user)
        self.session_key = (
            getattr(self.scope.get("session"), "session_key", None) or None
        )
        if self.session_key:
            # Logging out closes this session's sockets at once.
            self.joined = [session_group(self.session_key)]
        # Join before replaying, so nothing committed meanwhile falls in a gap;
        # the client drops ids it already has.
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await fanout_for_running_loop().join(self)  # Fails first if Redis is down.
        await self.accept()
        # The opening frame goes out before the writer starts, so it comes
        # before the live events queued meanwhile (the client drops the ones
        # the replay also holds).
        after = after_from_query_string(self.scope.get("query_string", b""))
        if after is None:
            latest = await database_sync_to_async(latest_event_id)()
            await self.send(text_data=heartbeat_text(latest))
        else:
            await self.send(text_data=await self.batch_text(after))
        self.writer = asyncio.get_running_loop().create_task(self._write())
        ticker_for_running_loop().add(self)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # A handler that raised (or a cancelled task) skips
            # websocket_disconnect(): without this the socket would stay in the
            # process's fan-out, ticker and groups for good. disconnect() may
            # already have run; it is safe to run again.
            await self.disconnect(CLOSE_INTERNAL_ERROR)
            # Channels has cancelled and awaited this socket's receive by now.
            # No channel name: the layer failed before it made one.
            channel_name = getattr(self, "channel_name", None)
            if getattr(self, "channel_layer", None) is not None and channel_name:
                forget_channel(self.channel_layer, channel_name)

    async def disconnect(self, code: int) -> None:
        ticker_for_running_loop().discard(self)
        await fanout_for_running_loop().leave(self)
        if self.writer is not None and self.writer is not asyncio.current_task():
            self.writer.cancel()
        self.writer = None
        for group in self.joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # Redis gone: its group entries expire on their own.
                logger.warning("Could not leave group %s", group, exc_info=True)
        self.joined = []

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        after = parse_client_frame(text_data)  # Binary frames are ignored.
        if after is not None:
            self.deliver(await self.batch_text(after))

    async def batch_text(self, after: int) -> str:
        batch = await database_sync_to_async(batch_after)(
            after, with_costs=self.sees_costs
        )
        return dumps(batch)

    def deliver(self, text: str) -> None:
        """Queue a serialised frame for this socket's writer.

        Called by the fan-out for every live event and by :meth:`receive` for
        fetch replies; it spares the socket this interval's heartbeat.
        """
        self.sent_since_tick = True
        self._enqueue(text)

    def heartbeat(self, text: str) -> None:
        """Queue a heartbeat frame (from the ticker) behind what is queued."""
        self._enqueue(text)

    def _enqueue(self, text: str) -> None:
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            # A client this far behind catches up from the log: a later
            # heartbeat shows it the gap and it fetches the range.
            logger.info(
                "Dashboard socket %s is behind; dropped a frame.", self.channel_name
            )

    async def _write(self) -> None:
        while True:
            texts = [await self.outbox.get()]
            while len(texts) < MAX_FRAMES_PER_MESSAGE and not self.outbox.empty():
                texts.append(self.outbox.get_nowait())
            await self.send(text_data=frames_text(texts))

    async def access_revoked(self, message: dict[str, Any]) -> None:
        # Sent to the session's group when it logs out.
        await self.revoke()

    async def revoke(self) -> None:
        """Close the socket with ``CLOSE_FORBIDDEN``, once however often asked."""
        if self.revoked:
            return
        self.revoked = True
        await self.disconnect(CLOSE_FORBIDDEN)
        await self.close(code=CLOSE_FORBIDDEN)
