"""Gap fills asked at once share one read of the change log.

When commits land out of id order, every socket of a process sees the same
gap and asks for the same events (``fetch`` with the same ``after``). Each
read went through the one database thread in turn: with a thousand pages
open, the last socket waited for a thousand identical queries.

A socket's read is shared only with reads that had not started when it
asked: events committed before its request are in any read that starts
after it, so sharing never hides one. A read that started earlier is left
to finish, and the socket waits for the next.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable

from channels.db import database_sync_to_async

from shop_manager.live.admission import LogRead, read_log
from shop_manager.live.loops import per_event_loop

__all__ = ["SharedReads", "shared_reads_for_running_loop"]


class _Waiting:
    """A read asked for and not started yet, and who asked."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.result: asyncio.Future[LogRead] = loop.create_future()
        self.with_costs: set[bool] = set()


class SharedReads:
    def __init__(
        self, reader: Callable[[int, Iterable[bool]], LogRead] | None = None
    ) -> None:
        self._reader = reader
        # Taken by the event loop (to join) and by the database thread (to
        # start a read): a request joins only a read not yet started.
        self._lock = threading.Lock()
        self._waiting: dict[int, _Waiting] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def read(self, after: int, with_costs: bool) -> LogRead:
        """The events after ``after``, read after this call began, with the
        frame for ``with_costs`` written."""
        loop = asyncio.get_running_loop()
        with self._lock:
            waiting = self._waiting.get(after)
            if waiting is None:
                waiting = self._waiting[after] = _Waiting(loop)
                # Not the asking socket's task: it may close before the read
                # ends, and the others still need the answer.
                task = loop.create_task(self._run(after, waiting))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            waiting.with_costs.add(with_costs)
        return await asyncio.shield(waiting.result)

    async def _run(self, after: int, waiting: _Waiting) -> None:
        try:
            read = await database_sync_to_async(self._start)(after, waiting)
        except asyncio.CancelledError:
            self._forget(after, waiting)
            waiting.result.cancel()
            raise
        except Exception as error:
            self._forget(after, waiting)
            waiting.result.set_exception(error)
            # Every asker gets it; marked retrieved in case none is left.
            waiting.result.exception()
        else:
            waiting.result.set_result(read)

    def _start(self, after: int, waiting: _Waiting) -> LogRead:
        # In the database thread: from here on, a new request starts a read
        # of its own.
        self._forget(after, waiting)
        with self._lock:
            with_costs = sorted(waiting.with_costs)
        return (self._reader or read_log)(after, with_costs)

    def _forget(self, after: int, waiting: _Waiting) -> None:
        with self._lock:
            if self._waiting.get(after) is waiting:
                del self._waiting[after]


shared_reads_for_running_loop = per_event_loop(SharedReads)
