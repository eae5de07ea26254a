"""The change log: written in the change's transaction (:mod:`.writer`, fed by
the model receivers in :mod:`.receivers`), attributed to who made the change
(:mod:`.actors`), and rendered for people one way everywhere (:mod:`.rendering`).

``QuerySet.update()`` and ``bulk_create()`` send no signals: code that uses
them calls :func:`log_event` or :func:`log_created` itself.
"""

from __future__ import annotations

from shop_manager.changelog.actors import acting_as, get_actor
from shop_manager.changelog.writer import (
    announced_together,
    log_created,
    log_event,
    log_events,
    logged_value,
)

__all__ = [
    "acting_as",
    "announced_together",
    "get_actor",
    "log_created",
    "log_event",
    "log_events",
    "logged_value",
]
