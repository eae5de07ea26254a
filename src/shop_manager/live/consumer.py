"""The dashboard socket: replay from the change log, then live events.

Everything the socket sends after its opening frame (live events from the
fan-out, fetch replies, heartbeats) goes through its one outbox, written by
its one writer task, so frames leave in the order they were queued. Frames
that pile up while the client is slow leave together as one ``frames``
message; at low load each leaves alone, at once. The writer exists only
while frames are queued, and writes with the server's own ASGI ``send``: an
idle socket holds no task, and a live frame costs one server call.

What a socket can make the server hold is bounded: its outbox by size
(``OUTBOX_LIMIT``; a client that far behind has frames dropped and fills the
gap from the log once it reads again), its gap fills to one at a time (a
``fetch`` that arrives while the last reply is not yet written out is
answered after it, however many arrived meanwhile), and its user's sockets
in number (:mod:`shop_manager.live.quota`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import InstanceSessionWrapper
from channels.utils import await_many_dispatch

from shop_manager.live.admission import (
    Admission,
    Batch,
    answer,
    needs_answering_in_thread,
    watch_rights,
)
from shop_manager.live.fanout import fanout_for_running_loop
from shop_manager.live.feed import latest_event_id
from shop_manager.live.groups import session_group
from shop_manager.live.presence import presence_for_running_loop
from shop_manager.live.protocol import (
    after_from_query_string,
    frames_text,
    heartbeat_text,
    parse_client_frame,
    parse_presence_frame,
)
from shop_manager.live.quota import quota_for_running_loop
from shop_manager.live.shared_reads import shared_reads_for_running_loop
from shop_manager.live.ticker import ticker_for_running_loop

__all__ = ["CLOSE_FORBIDDEN", "CLOSE_TOO_MANY_SOCKETS", "ProductFeedConsumer"]

logger = logging.getLogger("shop_manager.live.consumer")

# Characters of frames a socket may have queued before it counts as too far
# behind (frames are JSON text, mostly ASCII: about as many bytes). A frame
# is always queued into an empty outbox, however long.
OUTBOX_LIMIT = 1024 * 1024
# Most queued frames one message carries, so one message stays a sane size.
MAX_FRAMES_PER_MESSAGE = 100
# Application close code sent when the user may no longer watch.
CLOSE_FORBIDDEN = 4403
# Sent, right after the handshake, to a socket its user has no place for
# (SHOP_MANAGER["SOCKETS_PER_USER"]).
CLOSE_TOO_MANY_SOCKETS = 4429
# What disconnect() is told when the consumer ended without a client close.
CLOSE_INTERNAL_ERROR = 1011

# Any message: a server's own send is typed with the union of every ASGI event.
ASGISend = Callable[[Any], Awaitable[None]]


if sys.version_info >= (3, 12):

    def start_task(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        # Eagerly: the writer writes at once, in the caller's turn of the
        # loop, and a write the transport takes without waiting ends it there,
        # without ever scheduling the task (as websockets.broadcast() writes).
        return asyncio.Task(coro, loop=asyncio.get_running_loop(), eager_start=True)

else:

    def start_task(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coro)


def server_send(send: ASGISend) -> ASGISend:
    """The ASGI server's own ``send`` under Channels' session wrapper.

    The wrapper acts only on ``http.response.start`` (saving the session,
    setting its cookie); for a socket's frames it is a pass-through that
    costs a call and two session checks per frame.
    """
    wrapper = getattr(send, "__self__", None)
    if isinstance(wrapper, InstanceSessionWrapper):
        return server_send(wrapper.real_send)
    return send


class ProductFeedConsumer(AsyncWebsocketConsumer):
    """``<WEBSOCKET_PATH>?after=<id>``: every event after ``id``, then live ones.

    The frames are those of :mod:`shop_manager.live.protocol`.
    """

    user_pk: Any = None
    # Whether this user may see cost fields; frames leave them out otherwise.
    sees_costs: bool = False
    # The access generation the socket was last checked at
    # (shop_manager.live.barrier); 0 until a pass or a read from the log
    # checks it, since the handshake loaded the user before any was read.
    valid_at: int = 0
    # The session that opened the socket: the socket lives no longer than it.
    session_key: str | None = None
    # How others' edit forms name this socket's user while it is on one.
    display_name: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The name a logout of this socket's session gives it.
        self.session: str | None = None
        # Every frame after the first, written in order by this socket's one
        # writer task, which runs only while this holds something.
        self.outbox: list[str] = []
        # The characters the outbox holds, and whether it overflowed since it
        # was last empty (said once in the log, not per dropped frame).
        self.outbox_size = 0
        self.overflowed = False
        self.writer: asyncio.Task[None] | None = None
        # Set once the opening frame is out (only then may the writer start)
        # and cleared for good at disconnect.
        self.writing = False
        self.transport_send: ASGISend | None = None
        # Whether anything but a heartbeat was queued since the ticker last
        # looked: a socket that just got frames needs no heartbeat.
        self.sent_since_tick = False
        # Set once the socket may no longer watch: nothing more is queued.
        self.cut = False
        self.revoked = False
        self.revoking: asyncio.Task[None] | None = None
        # This socket's place among its user's (shop_manager.live.quota).
        self.place: str | None = None
        # A gap fill in progress: its reply, once queued, until it is written
        # out; and the lowest ``after`` asked for meanwhile, answered next.
        self.fetching = False
        self.fetch_reply: str | None = None
        self.fetch_next: int | None = None
        self.fetch_task: asyncio.Task[None] | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels runs close_old_connections() in a thread before every
        # handler: two thread hops per socket for connect and disconnect. Every
        # database read here goes through database_sync_to_async, which closes
        # stale connections itself, so the extra hops buy nothing.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        # One hop for both checks. Not thread_sensitive=False (which would let
        # sockets' checks run side by side): connections opened in the loop's
        # thread pool outlived their hops under the test suite (PostgreSQL
        # sessions left open, the test database not dropped).
        may_watch, sees_costs = (
            await database_sync_to_async(watch_rights)(user)
            if user is not None
            else (False, False)
        )
        if user is None or not may_watch:
            await self.close()  # Before accept(): the handshake gets a 403.
            return
        self.user_pk = user.pk
        self.sees_costs = sees_costs
        self.display_name = user.get_full_name().strip() or user.get_username()
        self.session_key = (
            getattr(self.scope.get("session"), "session_key", None) or None
        )
        self.place = await quota_for_running_loop().take(user.pk)
        if self.place is None:
            # Accepted, so the client learns why (a refused handshake is a
            # bare 403), and closed before any frame; it may retry later.
            await self.accept()
            await self.close(
                code=CLOSE_TOO_MANY_SOCKETS, reason="Too many dashboard sockets."
            )
            return
        if self.session_key:
            # Logging out closes this session's sockets at once.
            self.session = session_group(self.session_key)
        # Join before replaying, so nothing committed meanwhile falls in a gap;
        # the client drops ids it already has.
        fanout = fanout_for_running_loop()
        await fanout.join(self, self.session)  # Fails first if Redis is down.
        if self.cut:  # A pass that ran meanwhile found it revoked.
            return
        await self.accept()
        self.transport_send = server_send(self.base_send)
        # The opening frame goes out before the writer may start, so it comes
        # before the live events queued meanwhile (the client drops the ones
        # the replay also holds).
        after = after_from_query_string(self.scope.get("query_string", b""))
        if after is None:
            text = heartbeat_text(await self.latest_id())
        else:
            text = await self.batch_text(after)
        if self.cut:  # Revoked meanwhile (by the replay's check or a pass).
            return
        await self.transport_send({"type": "websocket.send", "text": text})
        self.writing = True
        self._start_writer()
        ticker_for_running_loop().add(self)

    async def latest_id(self) -> int:
        """The newest logged id, for a socket that starts from now.

        The process's fan-out knows it without a query while it has listened
        without a break since it last read it: every event committed after
        that read was relayed through it, so none is newer than what it holds
        and not already queued for this socket, which joined first. Otherwise
        one query, made after joining for the same reason.
        """
        fanout = fanout_for_running_loop()
        if fanout.latest_id is not None:
            return fanout.latest_id
        epoch = fanout.epoch
        latest = await database_sync_to_async(latest_event_id)()
        fanout.note_latest(latest, epoch)
        return latest

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Channels' AsyncConsumer.__call__ without the per-socket channel it
        # would make (a subscription, a receive queue and a task per socket):
        # the process's fan-out receives everything addressed to its sockets.
        self.scope = scope
        self.base_send = send
        try:
            await await_many_dispatch([receive], self.dispatch)
        except StopConsumer:
            pass
        finally:
            # A handler that raised (or a cancelled task) skips
            # websocket_disconnect(): without this the socket would stay in the
            # process's fan-out and ticker for good. disconnect() may already
            # have run; it is safe to run again.
            await self.disconnect(CLOSE_INTERNAL_ERROR)

    async def disconnect(self, code: int) -> None:
        self.cut = True  # Nothing is queued any more.
        self.writing = False
        self._drop_outbox()
        self.fetch_next = None
        ticker_for_running_loop().discard(self)
        await presence_for_running_loop().leave(self)
        place, self.place = self.place, None
        await quota_for_running_loop().release(place)
        await fanout_for_running_loop().leave(self, self.session)
        for task in (self.writer, self.fetch_task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        self.writer = self.fetch_task = None

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        after = parse_client_frame(text_data)  # Binary frames are ignored.
        if after is None:
            product = parse_presence_frame(text_data)
            if product is not None and self.writing and not self.cut:
                await presence_for_running_loop().enter(
                    self, product, self.display_name
                )
            return
        if self.fetching:
            # One gap fill at a time: this one is answered once the reply in
            # progress is written out (with the lowest `after` asked for).
            self.fetch_next = (
                after if self.fetch_next is None else min(self.fetch_next, after)
            )
            return
        self.fetching = True
        # In a task of its own: the consumer must ask for the next message at
        # once. uvicorn stops reading a socket while a message it handed over
        # is not taken, pongs included: a fetch answered here, on a database
        # slow for 20 s (a backlog after an outage), got the socket closed
        # with 1011 by uvicorn's keepalive. A fetch that comes meanwhile is
        # answered after this one (``fetch_next``).
        self.fetch_task = asyncio.get_running_loop().create_task(
            self._fetch_logged(after)
        )

    async def _fetch(self, after: int) -> None:
        """Answer a gap fill (``self.fetching`` already set)."""
        if self.outbox_size >= OUTBOX_LIMIT:
            # Too far behind to take the reply: not even read. The client
            # asks again at a heartbeat once it has read what is queued.
            self._fetched()
            return
        text = await self.batch_text(after)
        self.fetch_reply = text
        self.sent_since_tick = True
        if not self._enqueue(text):
            # Not queued (cut off, or too far behind meanwhile): done.
            self._fetched()
        # Otherwise the writer calls _fetched() once it has written it.

    def _fetched(self) -> None:
        """The reply in progress is written out: answer the next fetch."""
        self.fetch_reply = None
        after, self.fetch_next = self.fetch_next, None
        if after is None or self.cut or not self.writing:
            self.fetching = False
            return
        self.fetch_task = asyncio.get_running_loop().create_task(
            self._fetch_logged(after)
        )

    async def _fetch_logged(self, after: int) -> None:
        try:
            await self._fetch(after)
        except Exception:  # Nobody awaits this task: say what went wrong.
            logger.warning("Could not answer a dashboard fetch.", exc_info=True)
            self.fetching = False

    async def batch_text(self, after: int) -> str:
        """The ``batch`` of every event after ``after`` (bounded), read from the
        log; if a revocation came since this socket was last checked, checked
        again first (:mod:`shop_manager.live.admission`). A socket that fails
        is cut off, and the text is empty (queued, it is dropped). The read
        is shared with the sockets asking the same at the same time
        (:mod:`shop_manager.live.shared_reads`); the check is this socket's."""
        admission = Admission(self.valid_at, self.sees_costs)
        read = await shared_reads_for_running_loop().read(after, self.sees_costs)
        batch: Batch | None
        if needs_answering_in_thread(read, admission):
            batch = await database_sync_to_async(answer)(
                read, self.user_pk, self.session_key, admission
            )
        else:
            batch = Batch(read.texts[admission.sees_costs], admission)
        if batch is None:
            self.cut_off()
            return ""
        self.admitted(batch.admission)
        return batch.text

    def admitted(self, admission: Admission) -> None:
        """Take a newer check's answer (an older one, from a read that raced
        a pass, is not)."""
        if admission.valid_at >= self.valid_at:
            self.valid_at = admission.valid_at
            self.sees_costs = admission.sees_costs

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

    def _enqueue(self, text: str) -> bool:
        """Queue ``text`` for the writer; whether it was queued."""
        if self.cut:
            return False
        size = len(text)
        if self.outbox and self.outbox_size + size > OUTBOX_LIMIT:
            # A client this far behind catches up from the log: a later
            # heartbeat, or the next event's id, shows it the gap and it
            # fetches the range.
            if not self.overflowed:
                self.overflowed = True
                logger.info(
                    "Dashboard socket of user %s is behind; dropping frames.",
                    self.user_pk,
                )
            return False
        self.outbox.append(text)
        self.outbox_size += size
        self._start_writer()
        return True

    def _drop_outbox(self) -> None:
        self.outbox = []
        self.outbox_size = 0

    def _start_writer(self) -> None:
        # At most one writer at a time: it takes frames in queue order and
        # ends only once the outbox is empty, with no await in between.
        if self.writer is None and self.writing and self.outbox:
            writer = start_task(self._write())
            # An eager writer may have finished already.
            self.writer = None if writer.done() else writer

    async def _write(self) -> None:
        send = self.transport_send
        assert send is not None
        try:
            while self.outbox and self.writing:
                texts = self.outbox[:MAX_FRAMES_PER_MESSAGE]
                del self.outbox[:MAX_FRAMES_PER_MESSAGE]
                self.outbox_size -= sum(map(len, texts))
                if not self.outbox:
                    self.overflowed = False
                await send({"type": "websocket.send", "text": frames_text(texts)})
                reply = self.fetch_reply
                if reply is not None and any(text is reply for text in texts):
                    self._fetched()
        except Exception:
            # The connection is gone; its disconnect cleans up.
            logger.debug("Could not write to a dashboard socket.", exc_info=True)
            self.writing = False
            self._drop_outbox()
        finally:
            if self.writer is asyncio.current_task():
                self.writer = None

    def cut_off(self) -> None:
        """The socket may no longer watch: drop what is queued, queue nothing
        more, and close it with ``CLOSE_FORBIDDEN`` soon.

        Called by the fan-out before it hands out its next event, and by a
        read from the log that found the socket revoked.
        """
        self.cut = True
        self.writing = False
        self._drop_outbox()
        self.revoke_soon()

    def revoke_soon(self) -> None:
        """Close the socket, in a task of its own: the fan-out that calls
        this must not wait for its own leave()."""
        if self.revoking is None:
            self.revoking = asyncio.get_running_loop().create_task(
                self._revoke_logged()
            )

    async def _revoke_logged(self) -> None:
        try:
            await self.revoke()
        except OSError:
            # The client went away before the 4403 could be written (uvicorn
            # raises ClientDisconnected, an OSError): the socket already left
            # the fan-out, so it is closed all the same. Found by make chaos.
            logger.debug("A revoked dashboard socket was already gone.")
        except Exception:  # Nobody awaits this task: say what went wrong.
            logger.warning("Could not close a revoked dashboard socket.", exc_info=True)

    async def revoke(self) -> None:
        """Close the socket with ``CLOSE_FORBIDDEN``, once however often asked."""
        if self.revoked:
            return
        self.revoked = True
        self.cut = True
        await self.disconnect(CLOSE_FORBIDDEN)
        await self.close(code=CLOSE_FORBIDDEN)
