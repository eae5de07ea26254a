"""Who has a product's edit form open, across server processes.

An edit form's socket says which product it edits (the ``presence`` client
frame). Its process announces it on the dashboard group (``presence.update``:
the product, the socket's key, its user's name) at once and again at every
heartbeat tick (a tick's renewals go out a hundred editors to a message),
and says when it leaves (the socket closed, or its page went to another
product). Every process keeps what it heard in memory, each entry
expiring ``TTL_TICKS`` heartbeats after it was last announced, so the editors
of a process that died drop off within seconds too. Nothing is written to the
database, and the socket sends nothing per heartbeat: its process announces it.

Each process sends its own editors of a product the ``presence`` frame (the
other editors' names) whenever that list changes for them.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from shop_manager.conf import get_config
from shop_manager.live.groups import DASHBOARD_GROUP
from shop_manager.live.layer import get_layer
from shop_manager.live.loops import per_event_loop
from shop_manager.live.protocol import (
    PresenceUpdate,
    presence_message,
    presence_renewals,
    presence_text,
)
from shop_manager.live.tasks import within

__all__ = ["TTL_TICKS", "Presence", "presence_for_running_loop"]

logger = logging.getLogger("shop_manager.live.presence")

# An editor not announced again within this many heartbeats has gone: one
# missed announcement (a slow tick, a Redis blip) is not enough to drop it.
TTL_TICKS = 3


class Editor(Protocol):
    """A socket whose page is an edit form (the consumer)."""

    def deliver(self, text: str) -> None: ...


@dataclass
class _Heard:
    name: str
    expires: float


@dataclass
class _Local:
    product: int
    key: str
    name: str
    # The last presence frame sent to it, so an unchanged list is not resent.
    shown: str = ""


class Presence:
    def __init__(self) -> None:
        # Product → socket key → who, and until when (every process's editors).
        self.heard: dict[int, dict[str, _Heard]] = {}
        # This process's editors, also by product and by key: every update
        # heard (each editor of each process, every tick) looks them up, so a
        # scan of all of them per update grew with the square of the forms.
        self.local: dict[Editor, _Local] = {}
        self._local_by_product: dict[int, set[Editor]] = {}
        self._local_keys: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def _ttl(self) -> float:
        return float(get_config()["HEARTBEAT_SECONDS"]) * TTL_TICKS

    async def enter(self, editor: Editor, product: int, name: str) -> None:
        """``editor``'s page is ``product``'s edit form (said again: a no-op)."""
        here = self.local.get(editor)
        if here is not None and here.product == product:
            return
        if here is not None:
            await self.leave(editor)
        local = _Local(product, uuid.uuid4().hex, name)
        self._add_local(editor, local)
        # Known here at once, whatever the channel layer does.
        self.heard_update(PresenceUpdate(product, local.key, name, left=False))
        await self._send(presence_message(product, local.key, name))

    async def leave(self, editor: Editor) -> None:
        """``editor`` closed, or left its form; safe to call again."""
        local = self.local.pop(editor, None)
        if local is None:
            return
        self._local_keys.discard(local.key)
        editors = self._local_by_product[local.product]
        editors.discard(editor)
        if not editors:
            del self._local_by_product[local.product]
        self.heard_update(
            PresenceUpdate(local.product, local.key, local.name, left=True)
        )
        await self._send(
            presence_message(local.product, local.key, local.name, left=True)
        )

    def heard_update(self, update: PresenceUpdate) -> None:
        """A ``presence.update`` from any process (this one's included)."""
        entries = self.heard.setdefault(update.product, {})
        before = entries.get(update.key)
        if update.left:
            entries.pop(update.key, None)
            if not entries:
                del self.heard[update.product]
            if before is None:
                return  # Not known here: nobody's list changes.
        else:
            entries[update.key] = _Heard(update.name, time.monotonic() + self._ttl())
            if before is not None and before.name == update.name:
                # A renewal, as every editor's every tick is: the lists stand.
                return
            if before is None and not self._is_local(update.key):
                # A newcomer elsewhere: tell it about this process's editors
                # of the product now, not at the next tick.
                self._spawn(self._announce(update.product))
        # Sent only to the editors whose list it changed.
        self._publish(update.product)

    async def tick(self) -> None:
        """Every heartbeat: drop the expired, announce this process's editors."""
        now = time.monotonic()
        for product in list(self.heard):
            entries = self.heard[product]
            gone = [key for key, heard in entries.items() if heard.expires <= now]
            for key in gone:
                if self._is_local(key):
                    # Ours, and still open: the announcement below renews it.
                    continue
                del entries[key]
            if not entries:
                del self.heard[product]
            if gone:
                self._publish(product)
        renewals = []
        for local in list(self.local.values()):
            # Ours never expire here, however long the layer is down.
            self.heard.setdefault(local.product, {})[local.key] = _Heard(
                local.name, now + self._ttl()
            )
            renewals.append((local.product, local.key, local.name))
        await self._send(*presence_renewals(renewals))

    def names(self, product: int, *, besides: str) -> list[str]:
        """Who has ``product``'s form open, but the socket ``besides``: each
        name once, sorted."""
        entries = self.heard.get(product, {})
        return sorted({heard.name for key, heard in entries.items() if key != besides})

    def _add_local(self, editor: Editor, local: _Local) -> None:
        self.local[editor] = local
        self._local_by_product.setdefault(local.product, set()).add(editor)
        self._local_keys.add(local.key)

    def _is_local(self, key: str) -> bool:
        return key in self._local_keys

    def _publish(self, product: int) -> None:
        for editor in list(self._local_by_product.get(product, ())):
            local = self.local.get(editor)
            if local is None:  # Left while an earlier one was sent its frame.
                continue
            text = presence_text(product, self.names(product, besides=local.key))
            if text != local.shown:
                local.shown = text
                editor.deliver(text)

    async def _announce(self, product: int) -> None:
        locals_ = [
            self.local[editor] for editor in self._local_by_product.get(product, ())
        ]
        await self._send(
            *presence_renewals([(product, local.key, local.name) for local in locals_])
        )

    async def _send(self, *messages: dict[str, Any]) -> None:
        # All together bounded by one heartbeat, and never raising: a broken
        # Redis costs the others' view of these editors (until it answers
        # again), never a socket, nor the ticker's next beat.
        layer = get_layer()
        if layer is None or not messages:  # No layer: the checks say so.
            return

        async def send_all() -> None:
            for message in messages:
                await layer.group_send(DASHBOARD_GROUP, message)

        try:
            await within(send_all(), get_config()["HEARTBEAT_SECONDS"])
        except Exception:
            editors = sum(len(message.get("editors", ((),))) for message in messages)
            logger.warning("Could not announce %d editor(s).", editors, exc_info=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


presence_for_running_loop = per_event_loop(Presence)
