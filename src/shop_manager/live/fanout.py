"""One dashboard-group subscription per event loop (so per server process),
fanned out to that process's sockets.

Left to Channels, every event would be delivered once per socket: a queue hop,
a deserialisation and a dispatch each. Here the process subscribes once and
hands the already-serialised frame to each local socket (``deliver``: onto its
outbox, for its one writer), so a slow client delays only itself. A socket
whose user may not see costs gets the message's ``redacted`` text, serialised
once too.

Messages are dispatched by type to the method Channels would name
(``product.event`` → :meth:`LocalFanout.product_event`); their formats are
:mod:`shop_manager.live.protocol`'s. Besides the events, the same channel
hears, in the same ordered stream, the "re-check now" broadcasts
(``access.recheck``) and logouts (``access.revoked``, naming a session, whose
sockets here close at once). So a socket needs no channel of its own (no
subscription, receive queue or task each), nor a group per session.

Every event passes the process's :class:`~shop_manager.live.barrier.Barrier`
first: it goes out at once when every socket here has been checked since the
last revocation it may follow, and otherwise waits for the re-validation pass
the barrier runs, which closes the revoked sockets first.

When that listening breaks (Redis restarted), the fan-out mends it itself,
at once when a socket joins and otherwise at the next heartbeat or retry:
nothing else in the process would (see :mod:`shop_manager.live.pubsub_shards`).

It also knows the latest event id (``latest_id``) while it has listened without
a break since that id was read from the log, so a socket that starts "from
now" needs no query of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from channels.consumer import get_handler_name

from shop_manager.live import protocol
from shop_manager.live.barrier import Barrier
from shop_manager.live.groups import DASHBOARD_GROUP
from shop_manager.live.layer import get_layer
from shop_manager.live.layer_buffers import forget_channel
from shop_manager.live.loops import per_event_loop
from shop_manager.live.presence import presence_for_running_loop
from shop_manager.live.pubsub_shards import reconnect_shards, shards_down
from shop_manager.live.tasks import cancel_and_wait

__all__ = ["LocalFanout", "fanout_for_running_loop"]

logger = logging.getLogger("shop_manager.live.fanout")

# After a layer error (Redis down), wait this long before subscribing again.
RETRY_SECONDS = 1.0
# The groups this process's channel belongs to.
GROUPS = (DASHBOARD_GROUP,)
# The handler of each message type (Channels' naming: "a.b" → "a_b").
HANDLERS = {
    message_type: get_handler_name({"type": message_type})
    for message_type in protocol.MESSAGE_TYPES
}


class Recipient(Protocol):
    user_pk: Any
    session_key: str | None
    # Whether this socket's user may see cost fields, and the access
    # generation that was checked at (both set before it joins, and by the
    # barrier's passes).
    sees_costs: bool
    valid_at: int

    def deliver(self, text: str) -> None: ...
    def cut_off(self) -> None: ...


class LocalFanout:
    def __init__(self) -> None:
        self.recipients: set[Recipient] = set()
        # Session group name → the local sockets that session opened.
        self.sessions: dict[str, set[Recipient]] = {}
        self.barrier = Barrier(self.recipients, self._relay, self._forget_latest)
        self.channel: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Set when a socket joining (or the ticker) mended a broken listening.
        self._mended = asyncio.Event()
        # The newest id read from the log since this subscription began, or
        # relayed by it since; None when unknown (not yet read, or a break in
        # listening since, so events may have passed unseen).
        self.latest_id: int | None = None
        # Bumped at every such break, so a read that started before one is
        # not taken for the latest.
        self.epoch = 0

    @property
    def layer(self) -> Any:
        return get_layer()

    async def join(self, recipient: Recipient, session: str | None = None) -> None:
        """Add a socket, opened by the session ``session`` names
        (:func:`~shop_manager.live.groups.session_group`), and checked at
        ``recipient.valid_at``; returns once the process is subscribed, so a
        replay that follows cannot miss an event committed in between. Raises
        while the layer is unreachable."""
        async with self._lock:
            if self._reader is None or self._reader.done():
                await self._drop_channel()
                await self._subscribe()
                self._reader = asyncio.get_running_loop().create_task(self._read())
            else:
                # A listening that broke (Redis restarted) is mended now, not at
                # the reader's next retry: what is published meanwhile would be
                # lost to this socket, which replays only up to now.
                await self._mend()
            if session is not None:
                self.sessions.setdefault(session, set()).add(recipient)
            self.recipients.add(recipient)
            self.barrier.joined(recipient)

    async def leave(self, recipient: Recipient, session: str | None = None) -> None:
        """Remove a socket; safe to call again for one already gone."""
        async with self._lock:
            self.recipients.discard(recipient)
            members = self.sessions.get(session) if session is not None else None
            if session is not None and members is not None:
                members.discard(recipient)
                if not members:
                    del self.sessions[session]
            if self.recipients:
                return
            self.barrier.emptied()
            if self._reader is None:
                return
            # Nobody left here: stop listening rather than buffer for no one.
            reader, self._reader = self._reader, None
            await cancel_and_wait(reader)
            self._forget_latest()
            await self._drop_channel()

    def note_latest(self, event_id: int, epoch: int) -> None:
        """Record an id read from the log by a query that began during
        ``epoch`` (:attr:`epoch` when it began)."""
        if epoch == self.epoch and self._reader is not None:
            self.latest_id = max(self.latest_id or 0, event_id)

    def _forget_latest(self) -> None:
        self.latest_id = None
        self.epoch += 1

    async def refresh(self) -> None:
        """Mend a broken listening, and re-join the groups, as the list layer
        expires memberships after a day (called by the ticker)."""
        async with self._lock:
            if self._reader is None:
                return
            if await self._mend():
                return
            assert self.channel is not None
            for group in GROUPS:
                await self.layer.group_add(group, self.channel)

    async def _mend(self) -> bool:
        """Listen again if the listening broke; whether it had (under the lock).

        Raises while the layer is unreachable; the reader retries then.
        """
        if self.channel is None:
            # The list layer's receive failed: listen on a new channel.
            await self._subscribe()
        elif shards_down(self.layer):
            # The pub/sub layer's receive never fails: its shard reconnects
            # in the background, about a second later, and re-subscribes.
            await reconnect_shards(self.layer)
            self._forget_latest()
        else:
            return False
        self._mended.set()  # A reader waiting to retry listens at once.
        # A re-check broadcast may have been lost meanwhile: idle sockets of
        # a revoked user would stay open until the periodic re-check.
        self.recheck()
        return True

    async def _subscribe(self) -> None:
        # Whatever was published before this (re)subscription went unheard.
        self._forget_latest()
        channel = await self.layer.new_channel()
        try:
            for group in GROUPS:
                await self.layer.group_add(group, channel)
        except BaseException:
            forget_channel(self.layer, channel)
            raise
        self.channel = channel

    async def _drop_channel(self) -> None:
        channel, self.channel = self.channel, None
        if channel is None:
            return
        forget_channel(self.layer, channel)
        try:
            for group in GROUPS:
                await self.layer.group_discard(group, channel)
        except Exception:  # Redis gone: the entries expire on their own.
            logger.warning("Could not leave the dashboard groups.", exc_info=True)

    async def _read(self) -> None:
        while True:
            channel = self.channel
            if channel is None:
                # Not listening (a receive failed): retry until the layer
                # answers; a socket joining meanwhile does not wait for this.
                try:
                    async with self._lock:
                        self._mended.clear()
                        await self._mend()
                except Exception:
                    logger.debug("Still no channel layer.", exc_info=True)
                    await self._wait_to_retry()
                continue
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The heartbeat makes clients fetch what this outage cost them.
                self._forget_latest()
                logger.warning(
                    "Dashboard feed lost its channel layer; retrying.", exc_info=True
                )
                async with self._lock:
                    self._mended.clear()
                    if self.channel == channel:
                        await self._drop_channel()
                await self._wait_to_retry()
                continue
            self._handle(message)

    async def _wait_to_retry(self) -> None:
        """Wait ``RETRY_SECONDS``, or until a joining socket mended the
        listening (the list layer then keeps what was sent to the new channel
        meanwhile, for this reader to take at once). Cleared under the lock
        by the caller, so a mend in between is not missed."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._mended.wait(), RETRY_SECONDS)

    def _handle(self, message: dict[str, Any]) -> None:
        """Dispatch ``message`` to the handler of its type; a type this
        version does not know (a newer process's) is ignored."""
        message_type = message.get("type")
        handler = HANDLERS.get(message_type) if isinstance(message_type, str) else None
        if handler is None:
            logger.debug("Ignored a message of type %r.", message_type)
            return
        getattr(self, handler)(message)

    def product_event(self, message: dict[str, Any]) -> None:
        """A committed event (or a bulk change's heartbeat): to every socket,
        once the barrier lets it through."""
        news = protocol.parse_event_message(message)
        if news is not None and self.barrier.admits(news):
            self._relay(news)

    def alert_dismissed(self, message: dict[str, Any]) -> None:
        """Someone dismissed a stock alert: to every socket, once the barrier
        lets it through (it names a product, as an event does)."""
        news = protocol.parse_dismissed_message(message)
        if news is not None and self.barrier.admits(news):
            self._relay(news)

    def _relay(self, news: protocol.EventMessage) -> None:
        if news.event_id is not None:
            if self.latest_id is not None:
                self.latest_id = max(self.latest_id, news.event_id)
        elif not news.notice:
            # A bulk load's "fetch up to" hint names no single id.
            self._forget_latest()
        for recipient in list(self.recipients):
            recipient.deliver(news.text if recipient.sees_costs else news.redacted)

    def access_revoked(self, message: dict[str, Any]) -> None:
        """A session logged out: close the sockets it opened here, before the
        next message is handled."""
        revoked = protocol.parse_revoked_message(message)
        if revoked is None:
            return
        if revoked.group is None:
            # From a sender that does not name the session: re-check every
            # socket here, which closes that session's.
            self.recheck()
            return
        for recipient in list(self.sessions.get(revoked.group, ())):
            self.recipients.discard(recipient)
            recipient.cut_off()

    def access_recheck(self, message: dict[str, Any]) -> None:
        """Access may have changed somewhere: re-validate every socket,
        unless this process has already checked them since."""
        self.barrier.want(protocol.parse_recheck_message(message).generation)

    def recheck(self) -> None:
        """Re-validate every socket here now (the periodic re-check)."""
        self.barrier.want(None)

    def presence_update(self, message: dict[str, Any]) -> None:
        """Someone opened or left a product's edit form, or is still there
        (:mod:`shop_manager.live.presence`). Names only, and only to sockets
        that are themselves on that form: not held for the barrier."""
        presence = presence_for_running_loop()
        for update in protocol.parse_presence_updates(message):
            presence.heard_update(update)


fanout_for_running_loop = per_event_loop(LocalFanout)
