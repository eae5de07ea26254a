"""Stopping the feed's background tasks for sure."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["cancel_and_wait"]

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
