"""One instance per asyncio event loop, i.e. per ASGI server process (and per
test, whose loops come and go)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

__all__ = ["per_event_loop"]

T = TypeVar("T")


def per_event_loop(factory: Callable[[], T]) -> Callable[[], T]:
    """Return a getter for the running loop's instance, made on first use."""
    instances: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
        weakref.WeakKeyDictionary()
    )

    def for_running_loop() -> T:
        loop = asyncio.get_running_loop()
        if loop not in instances:
            instances[loop] = factory()
        return instances[loop]

    return for_running_loop
