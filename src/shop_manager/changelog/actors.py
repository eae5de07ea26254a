"""Who is making the current change, carried by a context variable.

The package's views and admin set it from ``request.user``; a host's own views
can do the same with ``acting_as``. Shell and management-command changes have
no actor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["acting_as", "get_actor"]

_actor: ContextVar[Any | None] = ContextVar("shop_manager_actor", default=None)


@contextmanager
def acting_as(user: Any | None) -> Iterator[None]:
    """Attribute product changes made inside the block to ``user``.

    Anonymous users count as nobody.
    """
    token = _actor.set(user if getattr(user, "is_authenticated", False) else None)
    try:
        yield
    finally:
        _actor.reset(token)


def get_actor() -> Any | None:
    return _actor.get()
