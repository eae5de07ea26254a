"""One dashboard-group subscription per event loop (so per server process),
fanned out to that process's sockets.

Left to Channels, every event would be delivered once per socket: a queue hop,
a deserialisation and a dispatch each. Here the process subscribes once and
hands the already-serialised frame to each local socket's outbox, so the
per-socket work per event is one ``put_nowait`` and one websocket write, in
that socket's own task (a slow client delays only itself). A socket whose user
may not see costs gets the message's ``redacted`` text, serialised once too.

The same channel hears the "re-check now" broadcasts (``access.recheck``) and
hands them to ``on_recheck`` (the process's heartbeat ticker).

It also knows the latest event id (``latest_id``) while it has listened without
a break since that id was read from the log, so a socket that starts "from
now" needs no query of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from channels.layers import get_channel_layer

from shop_manager.conf import get_config
from shop_manager.live.groups import DASHBOARD_GROUP, RECHECK_GROUP
from shop_manager.live.layer_buffers import forget_channel
from shop_manager.live.loops import per_event_loop

__all__ = ["LocalFanout", "fanout_for_running_loop"]

logger = logging.getLogger("shop_manager.live.fanout")

# After a layer error (Redis down), wait this long before subscribing again.
RETRY_SECONDS = 1.0
# The groups this process's channel belongs to.
GROUPS = (DASHBOARD_GROUP, RECHECK_GROUP)


class Recipient(Protocol):
    # Whether this socket's user may see cost fields (set before it joins).
    sees_costs: bool

    def deliver(self, text: str) -> None: ...


class LocalFanout:
    def __init__(self) -> None:
        self.recipients: set[Recipient] = set()
        self.channel: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Called when some process asks every process to re-check its sockets.
        self.on_recheck: Callable[[], None] | None = None
        # The newest id read from the log since this subscription began, or
        # relayed by it since; None when unknown (not yet read, or a break in
        # listening since, so events may have passed unseen).
        self.latest_id: int | None = None
        # Bumped at every such break, so a read that started before one is
        # not taken for the latest.
        self.epoch = 0

    @property
    def layer(self) -> Any:
        return get_channel_layer(get_config()["CHANNEL_LAYER"])

    async def join(self, recipient: Recipient) -> None:
        """Add a socket; returns once the process is subscribed, so a replay
        that follows cannot miss an event committed in between."""
        async with self._lock:
            if self._reader is None or self._reader.done():
                await self._subscribe()
                self._reader = asyncio.get_running_loop().create_task(self._read())
            self.recipients.add(recipient)

    async def leave(self, recipient: Recipient) -> None:
        async with self._lock:
            self.recipients.discard(recipient)
            if self.recipients or self._reader is None:
                return
            # Nobody left here: stop listening rather than buffer for no one.
            reader, self._reader = self._reader, None
            reader.cancel()
            await asyncio.wait({reader})
            self._forget_latest()
            channel, self.channel = self.channel, None
            if channel is not None:
                forget_channel(self.layer, channel)
                try:
                    for group in GROUPS:
                        await self.layer.group_discard(group, channel)
                except Exception:  # Redis gone: the entry expires on its own.
                    logger.warning(
                        "Could not leave the dashboard groups.", exc_info=True
                    )

    def note_latest(self, event_id: int, epoch: int) -> None:
        """Record an id read from the log by a query that began during
        ``epoch`` (:attr:`epoch` when it began)."""
        if epoch == self.epoch and self._reader is not None:
            self.latest_id = max(self.latest_id or 0, event_id)

    def _forget_latest(self) -> None:
        self.latest_id = None
        self.epoch += 1

    async def refresh(self) -> None:
        """Re-join the groups, as the list layer expires memberships after a day."""
        if self.channel is not None:
            for group in GROUPS:
                await self.layer.group_add(group, self.channel)

    async def _subscribe(self) -> None:
        # Whatever was published before this (re)subscription went unheard.
        self._forget_latest()
        self.channel = await self.layer.new_channel()
        for group in GROUPS:
            await self.layer.group_add(group, self.channel)

    async def _read(self) -> None:
        while True:
            try:
                assert self.channel is not None
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The heartbeat makes clients fetch what this outage cost them.
                self._forget_latest()
                logger.warning(
                    "Dashboard feed lost its channel layer; retrying.", exc_info=True
                )
                await asyncio.sleep(RETRY_SECONDS)
                try:
                    await self._subscribe()
                except Exception:
                    logger.debug("Still no channel layer.", exc_info=True)
                else:
                    # A re-check broadcast may have been lost meanwhile.
                    self._recheck()
                continue
            text = message.get("text")
            if message.get("type") == "product.event" and isinstance(text, str):
                event_id = message.get("id")
                if type(event_id) is int and self.latest_id is not None:
                    self.latest_id = max(self.latest_id, event_id)
                elif type(event_id) is not int:
                    # A bulk load's "fetch up to" hint names no single id.
                    self._forget_latest()
                # Absent when the change touched no cost field.
                redacted = message.get("redacted", text)
                for recipient in list(self.recipients):
                    recipient.deliver(text if recipient.sees_costs else redacted)
            elif message.get("type") == "access.recheck":
                self._recheck()

    def _recheck(self) -> None:
        if self.on_recheck is not None:
            self.on_recheck()


fanout_for_running_loop = per_event_loop(LocalFanout)
