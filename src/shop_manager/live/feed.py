"""Database reads the dashboard feed needs, each one query."""

from __future__ import annotations

from typing import Any

from shop_manager.changelog.rendering import site_language
from shop_manager.conf import get_config
from shop_manager.live.protocol import batch_frame, event_frame, older_page
from shop_manager.models import ProductEvent

__all__ = [
    "batch_after",
    "events_after",
    "latest_event_id",
    "page_before",
    "recent_page",
    "recent_payloads",
    "replay_frame",
]


def latest_event_id() -> int:
    return ProductEvent.objects.latest_id()


def recent_payloads(
    limit: int | None = None, *, with_costs: bool = True
) -> list[dict[str, Any]]:
    """The newest ``limit`` events as payloads, oldest first."""
    limit = limit or get_config()["DASHBOARD_EVENTS"]
    events = ProductEvent.objects.order_by("-id")[:limit]
    return [event_frame(event, with_costs=with_costs) for event in reversed(events)]


def recent_page(
    limit: int | None = None, *, with_costs: bool = True
) -> tuple[list[dict[str, Any]], bool]:
    """The newest ``limit`` events as payloads, oldest first, and whether
    older ones remain: one query (one row past the page answers that)."""
    limit = limit or get_config()["DASHBOARD_EVENTS"]
    events = list(ProductEvent.objects.order_by("-id")[: limit + 1])
    payloads = [
        event_frame(event, with_costs=with_costs) for event in reversed(events[:limit])
    ]
    return payloads, len(events) > limit


def batch_after(after: int, *, with_costs: bool = True) -> dict[str, Any]:
    """Every event after ``after`` (bounded), as one frame for the socket (so
    in the site's language).

    ``until`` is the id the client holds everything up to once it has this
    frame; ``more`` says the limit cut it short, so the client asks again.
    ``with_costs=False`` leaves out cost-field diffs.
    """
    events, more = events_after(after)
    return replay_frame(after, events, more=more, with_costs=with_costs)


def events_after(after: int, **annotations: Any) -> tuple[list[ProductEvent], bool]:
    """Every event after ``after``, up to ``REPLAY_LIMIT``; and whether the
    limit cut them short. ``annotations`` are read with them, in the same
    statement."""
    limit = get_config()["REPLAY_LIMIT"]
    events = list(
        ProductEvent.objects.filter(id__gt=after)
        .annotate(**annotations)
        .order_by("id")[:limit]
    )
    return events, len(events) == limit


def replay_frame(
    after: int, events: list[ProductEvent], *, more: bool, with_costs: bool
) -> dict[str, Any]:
    """:func:`events_after`'s events as the socket's ``batch`` frame, in the
    site's language."""
    with site_language():
        return batch_frame(after, events, more=more, with_costs=with_costs)


def page_before(
    before: int, limit: int | None = None, *, with_costs: bool = True
) -> dict[str, Any]:
    """The newest ``limit`` events older than ``before``, oldest first, for a
    dashboard that already shows ``before`` and wants what came earlier.

    ``more`` says older events remain beyond this page.
    """
    limit = limit or get_config()["DASHBOARD_EVENTS"]
    # One row past the page answers "more" in the same query.
    events = list(
        ProductEvent.objects.filter(id__lt=before).order_by("-id")[: limit + 1]
    )
    return older_page(
        before, events[:limit][::-1], more=len(events) > limit, with_costs=with_costs
    )
