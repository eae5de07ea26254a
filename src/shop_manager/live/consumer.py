"""The dashboard socket: replay from the change log, then live events."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from shop_manager.conf import get_config
from shop_manager.live.fanout import fanout_for_running_loop
from shop_manager.live.feed import batch_after, latest_event_id
from shop_manager.live.groups import session_group
from shop_manager.live.layer_buffers import forget_channel
from shop_manager.live.protocol import after_from_query_string, parse_client_frame
from shop_manager.live.ticker import ticker_for_running_loop
from shop_manager.permissions import get_policy

__all__ = ["CLOSE_FORBIDDEN", "ProductFeedConsumer"]

logger = logging.getLogger("shop_manager.live.consumer")

# Live frames a socket may have queued before it counts as too far behind.
OUTBOX_SIZE = 1000
# Application close code sent when the user may no longer watch.
CLOSE_FORBIDDEN = 4403
# What disconnect() is told when the consumer ended without a client close.
CLOSE_INTERNAL_ERROR = 1011
# Handlers that touch no database connection, so they skip the per-message
# close_old_connections() thread hop Channels' dispatch() makes: with a
# thousand sockets that hop cost more than the send itself.
_HOT_HANDLERS = {"product.event": "product_event", "access.revoked": "access_revoked"}


class ProductFeedConsumer(AsyncWebsocketConsumer):
    """``ws/products/?after=<id>``: every event after ``id``, then live ones.

    Server frames: ``event`` (one change), ``batch`` (a replay or gap fill),
    ``heartbeat`` (the latest logged id). Client frames: ``{"type": "fetch",
    "after": <id>}`` asks for a batch; anything else is ignored (see
    ``shop_manager.live.protocol``).
    """

    user_pk: Any = None
    # Whether this user may see cost fields; frames leave them out otherwise.
    sees_costs: bool = False
    # The session that opened the socket: the socket lives no longer than it.
    session_key: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel_layer_alias = get_config()["CHANNEL_LAYER"]
        self.joined: list[str] = []
        # Frames from the process-wide fan-out, written by this socket's own task.
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self.writer: asyncio.Task[None] | None = None

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
        self.writer = asyncio.get_running_loop().create_task(self._write())
        ticker_for_running_loop().add(self)
        after = after_from_query_string(self.scope.get("query_string", b""))
        if after is None:
            latest = await database_sync_to_async(latest_event_id)()
            await self.send(
                text_data=json.dumps({"type": "heartbeat", "last_id": latest})
            )
        else:
            await self.send_batch(after)

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
            if getattr(self, "channel_layer", None) is not None:
                forget_channel(self.channel_layer, self.channel_name)

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
            await self.send_batch(after)

    async def send_batch(self, after: int) -> None:
        batch = await database_sync_to_async(batch_after)(
            after, with_costs=self.sees_costs
        )
        await self.send(text_data=json.dumps(batch, ensure_ascii=False))

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = _HOT_HANDLERS.get(message["type"])
        if handler is None:
            await super().dispatch(message)
        else:
            await getattr(self, handler)(message)

    def deliver(self, text: str) -> None:
        """Called by the process-wide fan-out for every live event."""
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            # A client this far behind catches up from the log: the next
            # heartbeat shows it the gap and it fetches the range.
            logger.info(
                "Dashboard socket %s is behind; dropped a live frame.",
                self.channel_name,
            )

    async def _write(self) -> None:
        while True:
            await self.send(text_data=await self.outbox.get())

    async def product_event(self, message: dict[str, Any]) -> None:
        # Sent to this socket alone (a host may do so); the group goes through
        # the fan-out.
        text = message["text"]
        if not self.sees_costs:
            text = message.get("redacted", text)
        await self.send(text_data=text)

    async def access_revoked(self, message: dict[str, Any]) -> None:
        await self.revoke()

    async def revoke(self) -> None:
        await self.disconnect(CLOSE_FORBIDDEN)
        await self.close(code=CLOSE_FORBIDDEN)
