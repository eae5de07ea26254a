"""Waiting for a condition instead of for a time.

CI runs four tox environments at once on two cores, so any step of a test
can stall for seconds. A verdict must never depend on how long something
took: a test waits until what it expects has happened, and fails only when
it never does. :data:`HANG_BOUND` is the one limit on such a wait; it turns a
hang into a failure and is not a claim about speed.

For "this never arrives", a test sends something that must arrive *after*
the forbidden thing would have (a sentinel) and checks the forbidden thing
did not come first, rather than listening to silence for a moment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["HANG_BOUND", "eventually", "eventually_async"]

# Seconds before a wait is declared a hang. Generous on purpose: under load a
# healthy step takes seconds (a clean-clone `make test` at load 16 saw a
# 300-event relay burst need more than 30), and a correct test never waits
# this long.
HANG_BOUND = 60.0


def eventually(
    condition: Callable[[], object],
    *,
    timeout: float = HANG_BOUND,
    what: str = "a condition",
    interval: float = 0.01,
) -> None:
    """Return once ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(interval)


async def eventually_async(
    condition: Callable[[], object | Awaitable[object]],
    *,
    timeout: float = HANG_BOUND,
    what: str = "a condition",
    interval: float = 0.01,
) -> None:
    """:func:`eventually` for the event loop: the loop keeps running while it
    waits. ``condition`` may be a plain or an async callable."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        await asyncio.sleep(interval)
