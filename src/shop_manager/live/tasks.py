"""Stopping the feed's background tasks for sure."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["cancel_and_wait", "within"]

T = TypeVar("T")

# How long a cancelled task may run on before it is cancelled again.
RECANCEL_SECONDS = 0.1


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and return once it has ended.

    One ``cancel()`` is not always enough on Python < 3.12: ``asyncio.wait_for``,
    which redis-py 8 wraps around every command it sends when a
    ``socket_timeout`` is set, returns the command's result instead of raising
    when the cancellation arrives as the send completes (CPython gh-86296). A
    task in ``layer.receive()`` then goes on to block in its next BZPOPMIN, and
    whoever waits for it waits forever. So it is cancelled again until it ends.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_SECONDS)


async def within(work: Coroutine[Any, Any, T], timeout: float) -> T:
    """``await asyncio.wait_for(work, timeout)``, keeping its bound on every
    Python: on timeout ``work`` is cancelled until it has ended
    (:func:`cancel_and_wait`), then ``asyncio.TimeoutError`` is raised.

    ``wait_for`` itself cancels once and waits for the work to end. When the
    cancellation is lost inside redis-py (see above) and turns into one of
    its timeouts, redis-py retries, and a send to a hung Redis held a
    product save for four minutes instead of the notifier's half second.
    """
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done:
        return task.result()
    await cancel_and_wait(task)
    if not task.cancelled():
        task.exception()  # Retrieved: the timeout is what the caller hears.
    raise asyncio.TimeoutError
